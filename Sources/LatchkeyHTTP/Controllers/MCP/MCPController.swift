import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyMCP
import LatchkeyOAuthClient
import Logging

/// `POST|GET|DELETE /mcp`: the Streamable HTTP front of ``MCPServer`` for protocol revisions 2025-06-18, 2025-11-25
/// (an `initialize` handshake and an `Mcp-Session-Id` session) and 2026-07-28 (stateless, the version in each
/// request's `_meta` and headers). Every method checks `Origin` and the bearer token first. Answers are JSON (never
/// an SSE stream), so `GET` — the server-to-client stream — answers 405.
struct MCPController {
    let server: MCPServer
    let sessions: MCPSessions
    let gate: MCPBearerGate
    let origins: MCPOriginPolicy
    let maxBodySize: Int

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("mcp", use: post)
        router.get("mcp", use: get)
        router.delete("mcp", use: delete)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        MCPHTTPReply.error(
            .methodNotAllowed,
            "This server sends no stream on GET: every answer comes in the response to its POST.",
            headers: [.allow: "POST, DELETE"]
        )
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal: MCPPrincipal
        switch await admit(request) {
        case .failure(let refusal): return refusal.response
        case .success(let admitted): principal = admitted
        }
        guard let id = request.headers[MCPHTTPReply.sessionID] else {
            return MCPHTTPReply.error(.badRequest, "DELETE ends a session: send its Mcp-Session-Id header.")
        }
        guard sessions.end(id, for: principal) else {
            return MCPHTTPReply.error(.notFound, "There is no such session (it ended, expired or is not yours).")
        }
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    @Sendable func post(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal: MCPPrincipal
        switch await admit(request) {
        case .failure(let refusal): return refusal.response
        case .success(let admitted): principal = admitted
        }
        if let problem = Self.contentProblem(request.headers) { return problem }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodySize)
        } catch {
            return MCPHTTPReply.error(.contentTooLarge, "The request body is larger than \(maxBodySize) bytes.")
        }
        let origin = MCPCallOrigin(ip: context.remoteAddress, userAgent: request.headers[.userAgent])
        switch JSONRPC.parse(Array(buffer: body)) {
        case .failure(let failure):
            return MCPHTTPReply.json(JSONRPC.response(id: failure.id, error: failure.error), status: .badRequest)
        case .success(.response):
            return MCPHTTPReply.accepted
        case .success(.notification(_, let params)):
            if isStateless(request.headers, params) { return MCPHTTPReply.accepted }
            if case .failure(let refusal) = session(request.headers, principal) { return refusal.response }
            return MCPHTTPReply.accepted
        case .success(.request(let message)):
            if message.method == "initialize", MCPServer.declaredVersion(of: message.params) == nil {
                let (version, reply) = server.initialize(message)
                let id = sessions.open(for: principal, version: version)
                return MCPHTTPReply.json(reply.message, status: .ok, headers: [MCPHTTPReply.sessionID: id])
            }
            if isStateless(request.headers, message.params) {
                let headers = MCPRequestHeaders(
                    protocolVersion: request.headers[MCPHTTPReply.protocolVersion],
                    method: request.headers[MCPHTTPReply.method],
                    name: request.headers[MCPHTTPReply.name]
                )
                return http(await server.handleStateless(message, headers: headers, principal: principal, origin: origin))
            }
            switch session(request.headers, principal) {
            case .failure(let refusal): return refusal.response
            case .success(let version):
                return http(await server.handle(message, version: version, principal: principal, origin: origin))
            }
        }
    }

    /// `Origin` first (a foreign page must learn nothing, not even whether a token is good), then the token.
    private func admit(_ request: Request) async -> Result<MCPPrincipal, MCPRefusal> {
        guard origins.allows(request.headers[.origin]) else {
            return .failure(MCPRefusal(response: MCPHTTPReply.error(.forbidden, "Requests from this Origin are not allowed.")))
        }
        return await gate.principal(of: request)
    }

    /// A request of the stateless revision: it names its version in `_meta`, or its header names a version that is
    /// not a handshake revision and it carries no session.
    private func isStateless(_ headers: HTTPFields, _ params: [String: JSONValue]) -> Bool {
        if MCPServer.declaredVersion(of: params) != nil { return true }
        guard headers[MCPHTTPReply.sessionID] == nil, let declared = headers[MCPHTTPReply.protocolVersion] else { return false }
        return !MCPProtocolVersion.handshake.map(\.rawValue).contains(declared)
    }

    /// The revision of the request's session, which must be a live one of this principal and agree with the
    /// request's `MCP-Protocol-Version` when it sends one.
    private func session(_ headers: HTTPFields, _ principal: MCPPrincipal) -> Result<MCPProtocolVersion, MCPRefusal> {
        guard let id = headers[MCPHTTPReply.sessionID] else {
            return .failure(
                MCPRefusal(
                    response: MCPHTTPReply.error(
                        .badRequest,
                        "The Mcp-Session-Id header is missing: send initialize first and use the session it returns."
                    )
                )
            )
        }
        guard case .active(let version) = sessions.check(id, for: principal) else {
            return .failure(
                MCPRefusal(
                    response: MCPHTTPReply.error(.notFound, "There is no such session (it ended, expired or is not yours): send initialize again.")
                )
            )
        }
        if let declared = headers[MCPHTTPReply.protocolVersion], declared != version.rawValue {
            return .failure(
                MCPRefusal(
                    response: MCPHTTPReply.error(
                        .badRequest,
                        "The MCP-Protocol-Version header (\(declared)) is not the version this session negotiated (\(version.rawValue))."
                    )
                )
            )
        }
        return .success(version)
    }

    /// The HTTP answer for a reply of the server.
    private func http(_ reply: MCPReply) -> Response {
        switch reply.kind {
        case .ok: return MCPHTTPReply.json(reply.message, status: .ok)
        case .badRequest: return MCPHTTPReply.json(reply.message, status: .badRequest)
        case .notFound: return MCPHTTPReply.json(reply.message, status: .notFound)
        case .insufficientScope(let description):
            let challenge = gate.header(error: "insufficient_scope", description)
            return MCPHTTPReply.json(reply.message, status: .forbidden, headers: [MCPHTTPReply.wwwAuthenticate: challenge])
        }
    }

    /// A POST must send JSON and accept JSON back.
    static func contentProblem(_ headers: HTTPFields) -> Response? {
        let contentType = headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/json" else {
            return MCPHTTPReply.error(.unsupportedMediaType, "Send the JSON-RPC message with Content-Type: application/json.")
        }
        let accept = headers[values: .accept].joined(separator: ",")
        if !accept.isEmpty {
            let types = accept.split(separator: ",").map { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? "" }
            guard types.contains(where: { $0 == "application/json" || $0 == "application/*" || $0 == "*/*" }) else {
                return MCPHTTPReply.error(.notAcceptable, "This server answers with application/json: list it in the Accept header.")
            }
        }
        return nil
    }
}
