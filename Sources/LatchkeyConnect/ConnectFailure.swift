/// A connect attempt that could not finish, told to the person in plain words. Nothing is stored when this is
/// thrown; when `retryKey` is set the page offers *Try again*. The web layer maps ``kind`` to a status code.
public struct ConnectFailure: Error, Sendable {
    /// What went wrong, for the response status.
    public enum Kind: Sendable, Equatable {
        /// The link or answer cannot be used (unknown, replayed, expired, another browser or person, malformed, a
        /// denial, a wrong issuer, a service that cannot be reached with the details given).
        case refused
        /// The provider was asked to exchange the code and did not give tokens.
        case providerFailed
    }

    /// The page's heading and its plain-words explanation with the next step; never a token, code or URL.
    public var heading: String
    public var message: String
    public var kind: Kind
    /// The integration key a *Try again* form connects.
    public var retryKey: String?
    /// The credential a *Try again* reconnects, when the attempt was a reconnect.
    public var reconnect: String?

    public init(heading: String, message: String, kind: Kind = .refused, retryKey: String? = nil, reconnect: String? = nil) {
        self.heading = heading
        self.message = message
        self.kind = kind
        self.retryKey = retryKey
        self.reconnect = reconnect
    }

    static func badState(_ message: String) -> ConnectFailure {
        ConnectFailure(heading: "This connection link cannot be used", message: message)
    }

    /// The provider's answer broke the protocol (a parameter given twice): refused, nothing stored.
    static func malformedAnswer(_ reason: String) -> ConnectFailure {
        ConnectFailure(
            heading: "The provider's answer was malformed",
            message: "The answer that brought you back here was malformed (\(reason)), so it was refused and nothing was connected. "
                + "Please start again from your connections."
        )
    }
}
