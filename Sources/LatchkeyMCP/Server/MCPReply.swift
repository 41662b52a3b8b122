public import LatchkeyOAuthClient

/// The server's answer to one request: the JSON-RPC response, and how a transport should frame it.
public struct MCPReply: Sendable, Equatable {
    /// How the answer should be delivered; a transport maps it to its own status (HTTP: 200, 400, 404, 403).
    public enum Kind: Sendable, Equatable {
        case ok
        /// The request itself is malformed for its revision (missing `_meta`, unsupported version, header mismatch).
        case badRequest
        /// The method does not exist (2026-07-28 answers it with 404).
        case notFound
        /// A tool of a service the person did not grant to this client: the client must ask for more access.
        case insufficientScope(description: String)
    }

    /// The full JSON-RPC response object.
    public var message: JSONValue
    public var kind: Kind

    public init(message: JSONValue, kind: Kind = .ok) {
        self.message = message
        self.kind = kind
    }

    /// The JSON-RPC error, when the reply is one.
    public var error: JSONValue? { message["error"] }
    /// The result, when the reply is one.
    public var result: JSONValue? { message["result"] }
}
