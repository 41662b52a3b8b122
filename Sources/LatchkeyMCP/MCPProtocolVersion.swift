/// An MCP protocol revision this server speaks, and what differs between them.
public struct MCPProtocolVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The date that names the revision, e.g. `2025-11-25`.
    public let rawValue: String

    public static let v2025_06_18 = MCPProtocolVersion(known: "2025-06-18")
    public static let v2025_11_25 = MCPProtocolVersion(known: "2025-11-25")
    public static let v2026_07_28 = MCPProtocolVersion(known: "2026-07-28")

    /// Every revision served, newest first.
    public static let supported: [MCPProtocolVersion] = [.v2026_07_28, .v2025_11_25, .v2025_06_18]
    /// The revisions that open a session with `initialize`, newest first.
    public static let handshake: [MCPProtocolVersion] = supported.filter { !$0.isStateless }

    private init(known rawValue: String) { self.rawValue = rawValue }

    /// The supported revision named `rawValue`; nil for any other text.
    public init?(rawValue: String) {
        guard let known = Self.supported.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// No `initialize` handshake and no session: each request carries its version in `_meta` (2026-07-28).
    public var isStateless: Bool { self >= .v2026_07_28 }
    /// Invalid tool arguments are a tool error (`isError: true`) rather than a JSON-RPC error (2025-11-25).
    public var reportsInputErrorsAsToolErrors: Bool { self >= .v2025_11_25 }
    /// Results carry `resultType`, the server's identity in `_meta`, and lists carry cache hints (2026-07-28).
    public var marksResults: Bool { self >= .v2026_07_28 }
    /// `structuredContent` may be any JSON value, not only an object (2026-07-28).
    public var allowsAnyStructuredContent: Bool { self >= .v2026_07_28 }
}
