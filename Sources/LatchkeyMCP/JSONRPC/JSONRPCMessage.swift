import Foundation
public import LatchkeyOAuthClient

/// A JSON-RPC 2.0 request id: a string or an integer (MCP never allows `null`).
public enum JSONRPCID: Sendable, Hashable {
    case string(String)
    case number(Int64)

    /// The id as it goes back on the wire.
    public var json: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .number(let number): .integer(number)
        }
    }

    /// The id `value` stands for; nil when it is not a string or an integer.
    init?(_ value: JSONValue) {
        switch value {
        case .string(let text): self = .string(text)
        case .integer(let number): self = .number(number)
        case .unsigned(let number) where number <= UInt64(Int64.max): self = .number(Int64(number))
        default: return nil
        }
    }
}

/// A JSON-RPC request: it expects a response carrying the same id.
public struct JSONRPCRequest: Sendable, Equatable {
    public var id: JSONRPCID
    public var method: String
    /// The `params` object; empty when the request has none.
    public var params: [String: JSONValue]

    public init(id: JSONRPCID, method: String, params: [String: JSONValue] = [:]) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// One JSON-RPC message a client sends.
public enum JSONRPCMessage: Sendable, Equatable {
    case request(JSONRPCRequest)
    /// A message without an id: nothing is answered.
    case notification(method: String, params: [String: JSONValue])
    /// The client's answer to a request of the server (a result or an error).
    case response(id: JSONRPCID?)
}

/// A message that could not be read, with the id to answer when one could be read.
public struct JSONRPCFailure: Error, Sendable, Equatable {
    public var id: JSONRPCID?
    public var error: JSONRPCError

    public init(id: JSONRPCID?, error: JSONRPCError) {
        self.id = id
        self.error = error
    }
}

/// Reading JSON-RPC 2.0 messages and writing responses. Pure: no I/O.
public enum JSONRPC {
    /// The one message in `body`. MCP 2025-06-18 and later send one message per HTTP request, so a batch (a JSON
    /// array) is refused as an invalid request.
    public static func parse(_ body: [UInt8]) -> Result<JSONRPCMessage, JSONRPCFailure> {
        guard let document = JSONValue.parse(Data(body)) else {
            return .failure(.init(id: nil, error: .parseError("The body is not valid JSON.")))
        }
        return message(document)
    }

    /// The message `document` is.
    public static func message(_ document: JSONValue) -> Result<JSONRPCMessage, JSONRPCFailure> {
        guard case .object(let members) = document else {
            if case .array = document {
                return .failure(
                    .init(
                        id: nil,
                        error: .invalidRequest("Batches are not supported: send one JSON-RPC message per HTTP request.")
                    )
                )
            }
            return .failure(.init(id: nil, error: .invalidRequest("A JSON-RPC message must be a JSON object.")))
        }
        let rawID = members["id"]
        let id = rawID.flatMap(JSONRPCID.init)
        guard members["jsonrpc"] == .string("2.0") else {
            return .failure(.init(id: id, error: .invalidRequest("The member jsonrpc must be \"2.0\".")))
        }
        if let rawID, id == nil {
            let problem = rawID == .null ? "must not be null" : "must be a string or an integer"
            return .failure(.init(id: nil, error: .invalidRequest("The member id \(problem).")))
        }
        guard let method = members["method"] else {
            if let id, members["result"] != nil || members["error"] != nil {
                return .success(.response(id: id))
            }
            return .failure(.init(id: id, error: .invalidRequest("The message has no method: it is neither a request nor a notification.")))
        }
        guard case .string(let name) = method, !name.isEmpty else {
            return .failure(.init(id: id, error: .invalidRequest("The member method must be a non-empty string.")))
        }
        var params: [String: JSONValue] = [:]
        switch members["params"] {
        case nil: break
        case .object(let object)?: params = object
        default:
            return .failure(.init(id: id, error: .invalidParams("The member params must be an object.")))
        }
        guard let id else { return .success(.notification(method: name, params: params)) }
        return .success(.request(JSONRPCRequest(id: id, method: name, params: params)))
    }

    /// `{"jsonrpc": "2.0", "id": …, "result": …}`.
    public static func response(id: JSONRPCID, result: JSONValue) -> JSONValue {
        .object(["jsonrpc": .string("2.0"), "id": id.json, "result": result])
    }

    /// `{"jsonrpc": "2.0", "id": … or null, "error": {"code", "message", "data"?}}`.
    public static func response(id: JSONRPCID?, error: JSONRPCError) -> JSONValue {
        .object(["jsonrpc": .string("2.0"), "id": id?.json ?? .null, "error": error.json])
    }
}
