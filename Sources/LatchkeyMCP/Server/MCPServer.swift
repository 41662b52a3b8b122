import Foundation
public import LatchkeyOAuthClient
public import Logging

/// The MCP server logic, without any transport: `initialize` and version negotiation for the revisions with a
/// handshake, the stateless revision's per-request `_meta` and `server/discover`, `ping`, and the tools (in
/// `MCPServer+Tools.swift`). A transport reads messages, checks who is calling, and hands requests here.
public struct MCPServer: Sendable {
    /// How the server names itself in `serverInfo`.
    public struct Info: Sendable, Equatable {
        public var name: String
        public var title: String
        public var version: String
        public var instructions: String?

        public init(name: String, title: String, version: String, instructions: String? = nil) {
            self.name = name
            self.title = title
            self.version = version
            self.instructions = instructions
        }

        var json: JSONValue { .object(["name": .string(name), "title": .string(title), "version": .string(version)]) }
    }

    /// `_meta` keys of the stateless revision.
    public enum MetaKey {
        public static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
        public static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
        public static let serverInfo = "io.modelcontextprotocol/serverInfo"
    }

    public let info: Info
    let tools: any MCPToolSource
    /// Tools per `tools/list` page.
    let pageSize: Int
    /// How long a client may keep a list (2026-07-28 `ttlMs`).
    let listTTLMilliseconds: Int64
    let logger: Logger

    public init(info: Info, tools: any MCPToolSource, pageSize: Int = 100, listTTLMilliseconds: Int64 = 60_000, logger: Logger) {
        self.info = info
        self.tools = tools
        self.pageSize = max(1, pageSize)
        self.listTTLMilliseconds = listTTLMilliseconds
        self.logger = logger
    }

    // MARK: - The handshake revisions

    /// `initialize`: the revision to speak (the client's when supported, else the newest handshake revision, which
    /// the client may refuse) and the result to send.
    public func initialize(_ request: JSONRPCRequest) -> (MCPProtocolVersion, MCPReply) {
        let requested = request.params["protocolVersion"]?.stringValue
        let version =
            requested.flatMap(MCPProtocolVersion.init(rawValue:)).flatMap { $0.isStateless ? nil : $0 }
            ?? MCPProtocolVersion.handshake[0]
        var result: [String: JSONValue] = [
            "protocolVersion": .string(version.rawValue),
            "capabilities": capabilities,
            "serverInfo": info.json,
        ]
        if let instructions = info.instructions { result["instructions"] = .string(instructions) }
        return (version, MCPReply(message: JSONRPC.response(id: request.id, result: .object(result))))
    }

    /// A request inside a session of a handshake revision.
    public func handle(
        _ request: JSONRPCRequest,
        version: MCPProtocolVersion,
        principal: MCPPrincipal,
        origin: MCPCallOrigin = .init()
    ) async
        -> MCPReply
    {
        switch request.method {
        case "ping": return reply(request, .object([:]), version)
        case "tools/list": return await listTools(request, version: version, principal: principal)
        case "tools/call": return await callTool(request, version: version, principal: principal, origin: origin)
        case "initialize": return initialize(request).1
        default: return MCPReply(message: JSONRPC.response(id: request.id, error: .methodNotFound(request.method)))
        }
    }

    // MARK: - The stateless revision

    /// The revision a request names in `params._meta`, when it names one: such a request is served statelessly.
    public static func declaredVersion(of params: [String: JSONValue]) -> String? {
        params["_meta"]?[MetaKey.protocolVersion]?.stringValue
    }

    /// A request of the stateless revision (2026-07-28), checked in this order: its `_meta` (protocol version and
    /// client capabilities, else `-32602`), the transport's `headers` against the body when there are any (else
    /// `-32020`), the version (else `-32022` listing the supported ones); then it is served on its own.
    public func handleStateless(
        _ request: JSONRPCRequest,
        headers: MCPRequestHeaders?,
        principal: MCPPrincipal,
        origin: MCPCallOrigin = .init()
    ) async -> MCPReply {
        guard let requested = Self.declaredVersion(of: request.params) else {
            return badRequest(
                request,
                .invalidParams("The request has no _meta.\"\(MetaKey.protocolVersion)\": every request names its protocol version.")
            )
        }
        guard case .object? = request.params["_meta"]?[MetaKey.clientCapabilities] else {
            return badRequest(
                request,
                .invalidParams("The request has no _meta.\"\(MetaKey.clientCapabilities)\" object: every request states the client's capabilities.")
            )
        }
        if let headers, let mismatch = headers.mismatch(request, version: requested) {
            return badRequest(request, .headerMismatch(mismatch))
        }
        guard let version = MCPProtocolVersion(rawValue: requested), version.isStateless else {
            return unsupportedVersion(request.id, requested: requested)
        }
        switch request.method {
        case "server/discover": return discover(request, version: version)
        case "tools/list": return await listTools(request, version: version, principal: principal)
        case "tools/call": return await callTool(request, version: version, principal: principal, origin: origin)
        default:
            return MCPReply(message: JSONRPC.response(id: request.id, error: .methodNotFound(request.method)), kind: .notFound)
        }
    }

    /// `UnsupportedProtocolVersionError`, listing every revision served.
    public func unsupportedVersion(_ id: JSONRPCID?, requested: String) -> MCPReply {
        let error = JSONRPCError(
            code: JSONRPCError.unsupportedProtocolVersionCode,
            message:
                "Unsupported protocol version \(requested); this server speaks \(MCPProtocolVersion.supported.map(\.rawValue).joined(separator: ", ")).",
            data: .object([
                "supported": .array(MCPProtocolVersion.supported.map { .string($0.rawValue) }),
                "requested": .string(requested),
            ])
        )
        return MCPReply(message: JSONRPC.response(id: id, error: error), kind: .badRequest)
    }

    /// `server/discover`: the revisions, capabilities and identity of the server.
    func discover(_ request: JSONRPCRequest, version: MCPProtocolVersion) -> MCPReply {
        var result: [String: JSONValue] = [
            "supportedVersions": .array(MCPProtocolVersion.supported.map { .string($0.rawValue) }),
            "capabilities": capabilities,
            "ttlMs": .integer(listTTLMilliseconds),
            "cacheScope": .string("public"),
        ]
        if let instructions = info.instructions { result["instructions"] = .string(instructions) }
        return reply(request, .object(result), version)
    }

    // MARK: - Shared

    var capabilities: JSONValue { .object(["tools": .object(["listChanged": .bool(false)])]) }

    /// A result for `request`, marked as its revision wants (`resultType`, the server's identity).
    func reply(_ request: JSONRPCRequest, _ result: JSONValue, _ version: MCPProtocolVersion) -> MCPReply {
        guard version.marksResults, case .object(var members) = result else {
            return MCPReply(message: JSONRPC.response(id: request.id, result: result))
        }
        members["resultType"] = .string("complete")
        var meta: [String: JSONValue] = [:]
        if case .object(let existing)? = members["_meta"] { meta = existing }
        meta[MetaKey.serverInfo] = info.json
        members["_meta"] = .object(meta)
        return MCPReply(message: JSONRPC.response(id: request.id, result: .object(members)))
    }

    func badRequest(_ request: JSONRPCRequest, _ error: JSONRPCError) -> MCPReply {
        MCPReply(message: JSONRPC.response(id: request.id, error: error), kind: .badRequest)
    }

    func error(_ request: JSONRPCRequest, _ error: JSONRPCError) -> MCPReply {
        MCPReply(message: JSONRPC.response(id: request.id, error: error))
    }
}

extension JSONValue {
    /// The string, when the value is one.
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
