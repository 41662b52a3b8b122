public import LatchkeyOAuthClient

/// A JSON-RPC error object: the standard codes, and those MCP defines.
public struct JSONRPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The body is not JSON.
    public static let parseErrorCode = -32700
    /// The JSON is not a valid request.
    public static let invalidRequestCode = -32600
    /// The method does not exist here.
    public static let methodNotFoundCode = -32601
    /// The method's parameters are not valid.
    public static let invalidParamsCode = -32602
    /// The server failed.
    public static let internalErrorCode = -32603
    /// MCP (2026-07-28): the HTTP headers do not match the body, or a required one is missing.
    public static let headerMismatchCode = -32020
    /// MCP (2026-07-28): the request's protocol version is not one the server speaks.
    public static let unsupportedProtocolVersionCode = -32022

    public static func parseError(_ message: String) -> Self { .init(code: parseErrorCode, message: message) }
    public static func invalidRequest(_ message: String) -> Self { .init(code: invalidRequestCode, message: message) }
    public static func methodNotFound(_ method: String) -> Self {
        .init(code: methodNotFoundCode, message: "Method not found: \(method) is not a method of this server.")
    }
    public static func invalidParams(_ message: String, data: JSONValue? = nil) -> Self {
        .init(code: invalidParamsCode, message: message, data: data)
    }
    public static func internalError(_ message: String) -> Self { .init(code: internalErrorCode, message: message) }
    public static func headerMismatch(_ message: String) -> Self { .init(code: headerMismatchCode, message: message) }

    /// The error object as it goes on the wire.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["code": .integer(Int64(code)), "message": .string(message)]
        if let data { members["data"] = data }
        return .object(members)
    }
}
