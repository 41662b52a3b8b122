import LatchkeyCore

/// How a connect session is tied to the browser that started it: a value derived from the browser's id (an HMAC
/// under the server's key), compared when the provider sends the person back. Supplied by whoever keeps browser
/// sessions, so the connect flow depends on nothing else of theirs.
public struct ConnectBrowserBinding: Sendable {
    private let bind: @Sendable (String) -> String

    /// `bind` maps a browser id to the value stored with the session; the same id must always give the same value.
    public init(_ bind: @escaping @Sendable (_ browserID: String) -> String) {
        self.bind = bind
    }

    /// The value stored with a connect session started by `browserID`.
    public func binding(of browserID: String) -> String { bind(browserID) }

    /// Whether `browserID` is the browser that started a session stored with `stored` (compared in constant time).
    public func matches(_ browserID: String?, stored: String) -> Bool {
        guard let browserID else { return false }
        return ConstantTime.equals(bind(browserID), stored)
    }
}
