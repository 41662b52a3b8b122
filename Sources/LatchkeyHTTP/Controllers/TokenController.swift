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

    struct TokenRequest: FlatStringBody {
        var integration: String
        var externalUserId: String?
        var credentialId: String?

        static let allowedKeys: Set<String> = ["integration", "externalUserId", "credentialId"]

        init?(strings: [String: String]) {
            guard let integration = strings["integration"] else { return nil }
            self.integration = integration
            externalUserId = strings["externalUserId"]
            credentialId = strings["credentialId"]
        }
    }

    @Sendable func token(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decodeFlat(TokenRequest.self, from: request, limit: maxBodySize)
        let integration = body.integration.trimmingWhitespace()
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
        var answer = CompactJSONObject()
        answer.add("accessToken", token.accessToken)
        answer.add("tokenType", token.tokenType)
        answer.add("expiresAt", token.credential.expiresAt)
        answer.add("credentialId", token.credential.id)
        answer.add("integration", token.credential.integrationKey)
        answer.add("scopes", token.credential.scopes)
        RequestLogNote.current?.note(token.credential)
        return answer.response()
    }
}
