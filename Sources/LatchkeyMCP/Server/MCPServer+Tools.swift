import Foundation
import LatchkeyGateway
import LatchkeyOAuthClient
import Logging

extension MCPServer {
    /// `tools/list`: the tools of the services the person granted to this client, a page at a time behind an opaque
    /// cursor. In 2026-07-28 the list is marked private to the caller (it depends on the grant).
    func listTools(_ request: JSONRPCRequest, version: MCPProtocolVersion, principal: MCPPrincipal) async -> MCPReply {
        var offset = 0
        switch request.params["cursor"] {
        case nil, .null?: break
        case .string(let cursor)?:
            guard let decoded = Self.offset(fromCursor: cursor) else {
                return error(request, .invalidParams("The cursor is not one this server gave: start again without a cursor."))
            }
            offset = decoded
        default:
            return error(request, .invalidParams("The cursor must be a string."))
        }
        let all: [MCPTool]
        do {
            all = try await tools.tools(for: principal)
        } catch {
            logger.error("MCP tools/list failed", metadata: ["error": "\(String(reflecting: type(of: error)))", "user": "\(principal.userID)"])
            return self.error(request, .internalError("The tools could not be listed because of a server error. Try again in a moment."))
        }
        guard offset <= all.count else {
            return error(request, .invalidParams("The cursor is past the end of the list: start again without a cursor."))
        }
        let page = all[offset..<min(all.count, offset + pageSize)]
        var result: [String: JSONValue] = ["tools": .array(page.map(Self.json))]
        if offset + pageSize < all.count { result["nextCursor"] = .string(Self.cursor(offset: offset + pageSize)) }
        if version.marksResults {
            result["ttlMs"] = .integer(listTTLMilliseconds)
            result["cacheScope"] = .string("private")
        }
        return reply(request, .object(result), version)
    }

    /// `tools/call`: the tool run through the gateway as the person. Failures of the tool (not connected, expired
    /// connection, the provider's refusal, a rate limit) are results with `isError: true` that say what to do; bad
    /// arguments are such a result from 2025-11-25 on, and a JSON-RPC `-32602` error in 2025-06-18. A tool of a
    /// service not granted to this client is refused as insufficient scope, so that the client can ask again.
    func callTool(_ request: JSONRPCRequest, version: MCPProtocolVersion, principal: MCPPrincipal, origin: MCPCallOrigin) async -> MCPReply {
        guard case .string(let name)? = request.params["name"], !name.isEmpty else {
            return error(request, .invalidParams("tools/call needs params.name, the name of a tool from tools/list."))
        }
        let arguments = request.params["arguments"]
        switch arguments {
        case nil, .null?, .object?: break
        default: return error(request, .invalidParams("params.arguments must be an object."))
        }
        do {
            switch try await tools.lookup(name, for: principal) {
            case .unknown:
                return error(request, .invalidParams("Unknown tool: \(name). tools/list names the tools you can call."))
            case .notGranted(let services):
                let description =
                    "\(name) belongs to \(services.joined(separator: ", ")), which was not granted to this client. "
                    + "Authorize the client again and select that service."
                return MCPReply(
                    message: JSONRPC.response(id: request.id, error: .invalidParams(description)),
                    kind: .insufficientScope(description: description)
                )
            case .found(let tool):
                let outcome = try await tools.call(tool, arguments: arguments == .null ? nil : arguments, principal: principal, origin: origin)
                return result(request, outcome, version)
            }
        } catch {
            logger.error(
                "MCP tools/call failed",
                metadata: ["tool": "\(name)", "user": "\(principal.userID)", "error": "\(String(reflecting: type(of: error)))"]
            )
            return self.error(request, .internalError("\(name) could not be run because of a server error. Try again in a moment."))
        }
    }

    /// The `CallToolResult` for `outcome`.
    func result(_ request: JSONRPCRequest, _ outcome: MCPToolOutcome, _ version: MCPProtocolVersion) -> MCPReply {
        switch outcome {
        case .success(let value):
            var result: [String: JSONValue] = [
                "content": Self.text(String(decoding: ToolJSON.bytes(value), as: UTF8.self)),
                "isError": .bool(false),
            ]
            if version.allowsAnyStructuredContent {
                result["structuredContent"] = value
            } else if case .object = value {
                result["structuredContent"] = value
            }
            return reply(request, .object(result), version)
        case .failed(let code, let message, let link):
            var text = message
            if let link, !message.contains(link) { text += " \(link)" }
            var detail: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
            if let link { detail["url"] = .string(link) }
            return reply(
                request,
                .object(["content": Self.text(text), "isError": .bool(true), "structuredContent": .object(["error": .object(detail)])]),
                version
            )
        case .invalidArguments(let message, let fields):
            let listed = JSONValue.array(fields.map { .object(["path": .string($0.path), "message": .string($0.message)]) })
            guard version.reportsInputErrorsAsToolErrors else {
                return error(request, .invalidParams(message, data: .object(["fields": listed])))
            }
            let lines = fields.map { "- \($0.path): \($0.message)" }
            let text = ([message] + lines).joined(separator: "\n")
            let detail: JSONValue = .object(["code": .string("invalid_request"), "message": .string(message), "fields": listed])
            return reply(
                request,
                .object(["content": Self.text(text), "isError": .bool(true), "structuredContent": .object(["error": detail])]),
                version
            )
        }
    }

    static func text(_ text: String) -> JSONValue { .array([.object(["type": .string("text"), "text": .string(text)])]) }

    /// A tool as `tools/list` shows it.
    static func json(_ tool: MCPTool) -> JSONValue {
        .object([
            "name": .string(tool.name),
            "title": .string(tool.title),
            "description": .string(tool.description),
            "inputSchema": tool.inputSchema,
            "annotations": .object([
                "title": .string(tool.title),
                "readOnlyHint": .bool(tool.readOnly),
                "openWorldHint": .bool(true),
            ]),
        ])
    }

    /// An opaque cursor for the page starting at `offset`.
    static func cursor(offset: Int) -> String {
        Data("tools:\(offset)".utf8).base64EncodedString()
    }

    /// The offset a cursor stands for; nil for anything this server did not give.
    static func offset(fromCursor cursor: String) -> Int? {
        guard cursor.utf8.count <= 64, let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("tools:"), let offset = Int(text.dropFirst(6)), offset >= 0
        else { return nil }
        return offset
    }
}
