import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway

/// `POST /api/v1/credentials/token`: a usable access token for a caller, refreshed first when it has expired or is
/// about to (exactly once across all instances). Audited. The rules live in `CredentialResolver`.
struct TokenController {
    let resolver: CredentialResolver
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.post, "credentials/token", recorder: recorder, use: token)
    }

    struct TokenRequest: Decodable, AllowedKeys {
        var integration: String
        var externalUserId: String?
        var credentialId: String?

        static let allowedKeys: Set<String> = ["integration", "externalUserId", "credentialId"]
    }

    struct TokenResponse: Encodable {
        var accessToken: String
        var tokenType: String
        var expiresAt: Date?
        var credentialId: String
        var integration: String
        var scopes: [String]
    }

    @Sendable func token(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(TokenRequest.self, from: request, limit: maxBodySize)
        let integration = body.integration.trimmingCharacters(in: .whitespaces)
        guard IntegrationRules.isStoredKey(integration) else { throw LatchkeyError.invalidField("integration", "must be an integration key") }
        if let external = body.externalUserId, external.isEmpty || external.count > 255 {
            throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters")
        }
        if let id = body.credentialId, UUID(uuidString: id) == nil {
            throw LatchkeyError.invalidField("credentialId", "is not a valid credential id")
        }
        let token = try await resolver.token(
            for: .init(
                tenantID: context.tenantID,
                integrationKey: integration,
                externalUserID: body.externalUserId,
                credentialID: body.credentialId?.lowercased(),
                actor: context.actor(for: request)
            )
        )
        return try JSON.response(
            TokenResponse(
                accessToken: token.accessToken,
                tokenType: token.tokenType,
                expiresAt: token.credential.expiresAt,
                credentialId: token.credential.id,
                integration: token.credential.integrationKey,
                scopes: token.credential.scopes
            )
        )
    }
}
