import Foundation
import Hummingbird
import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/oauth/clients`: MCP clients registered by an administrator (static clients) of the authorization
/// server, next to the ones that register themselves. Tenant admin key only.
struct OAuthClientsController {
    let server: AuthorizationServer
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.post, "oauth/clients", recorder: recorder, use: create)
        group.route(.get, "oauth/clients", recorder: recorder, use: list)
        group.route(.delete, "oauth/clients/:id", recorder: recorder, use: delete)
    }

    @Sendable func create(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(CreateOAuthClientRequest.self, from: request, limit: maxBodySize)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw LatchkeyError.invalidField("name", "must not be empty") }
        let registration: AuthorizationServer.Registration
        do {
            registration = try await server.register(
                ClientRegistrationRequest(
                    redirectURIs: body.redirectUris,
                    clientName: name,
                    tokenEndpointAuthMethod: body.confidential == true ? "client_secret_basic" : "none"
                ),
                kind: .static,
                actor: actor(request, context)
            )
        } catch let error as OAuthError {
            throw LatchkeyError.invalidField(error.code == "invalid_redirect_uri" ? "redirectUris" : "name", error.description)
        }
        var response = OAuthClientResponse(registration.client)
        response.clientSecret = registration.clientSecret
        return try JSON.response(response, status: .created)
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        try JSON.response(ListEnvelope(items: try await server.staticClients().map(OAuthClientResponse.init), nextCursor: nil))
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard id.hasPrefix("lk_sc_"), id.count <= 100, try await server.deleteStaticClient(id, actor: actor(request, context)) else {
            throw LatchkeyError.notFound("OAuth client")
        }
        return Response(status: .noContent)
    }

    private func actor(_ request: Request, _ context: AdminContext) -> AuditActor {
        AuditActor(
            id: "admin_key:\(context.adminKey.id)",
            ip: context.remoteAddress,
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
        )
    }
}

/// `POST /api/v1/oauth/clients`.
struct CreateOAuthClientRequest: Decodable, AllowedKeys {
    var name: String
    var redirectUris: [String]
    var confidential: Bool?

    static let allowedKeys: Set<String> = ["name", "redirectUris", "confidential"]
}

/// An OAuth client as the admin API shows it; the secret only in the answer that creates it.
struct OAuthClientResponse: Encodable {
    var id: String
    var name: String?
    var redirectUris: [String]
    var tokenEndpointAuthMethod: String
    var createdAt: Date
    var lastUsedAt: Date?
    var clientSecret: String?

    init(_ client: OAuthClientRecord) {
        id = client.id
        name = client.name
        redirectUris = client.redirectURIs
        tokenEndpointAuthMethod = client.authMethod
        createdAt = client.createdAt
        lastUsedAt = client.lastUsedAt
    }
}
