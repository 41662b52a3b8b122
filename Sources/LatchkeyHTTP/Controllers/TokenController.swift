import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway

/// `POST /api/v1/credentials/token`: a usable credential for a caller — an access token, refreshed first when it has
/// expired or is about to (exactly once across all instances), an API key, or a username and password. Audited as
/// token use. The rules live in `CredentialResolver`.
struct TokenController {
    let resolver: CredentialResolver
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<CallerContext>, recorder: RouteRecorder?) {
        group.route(.post, "credentials/token", recorder: recorder, use: token)
    }

    struct TokenRequest: FlatStringBody {
        var integration: String
        var externalUserId: String?
        var credentialId: String?
        var connectionId: String?

        static let allowedKeys: Set<String> = ["integration", "externalUserId", "credentialId", "connectionId"]

        init?(strings: [String: String]) {
            guard let integration = strings["integration"] else { return nil }
            self.integration = integration
            externalUserId = strings["externalUserId"]
            credentialId = strings["credentialId"]
            connectionId = strings["connectionId"]
        }
    }

    @Sendable func token(_ request: Request, context: CallerContext) async throws -> Response {
        let body = try await JSON.decodeFlat(TokenRequest.self, from: request, limit: maxBodySize)
        let integration = body.integration.trimmingWhitespace()
        guard IntegrationRules.isStoredKey(integration) else { throw LatchkeyError.invalidField("integration", "must be an integration key") }
        try CredentialSelection.check(externalUserID: body.externalUserId, credentialID: body.credentialId, connectionID: body.connectionId)
        try await context.authorize(.tokens, integration: integration, request: request)
        let token = try await resolver.token(
            for: .init(
                integrationKey: integration,
                externalUserID: body.externalUserId,
                credentialID: body.credentialId?.lowercased(),
                connectionID: body.connectionId?.lowercased()
            ),
            // An admin key acts for the tenant's console app.
            caller: .init(tenantID: context.tenantID, appID: context.app?.id, actor: context.actor(for: request))
        )
        let credential = token.credential
        // Members in sorted key order, as every JSON response of the API has them.
        var oauth: (accessToken: String, tokenType: String)?
        var apiKey: String?
        var basic: (username: String, password: String)?
        switch token.secret {
        case .oauth(let accessToken, let tokenType): oauth = (accessToken, tokenType)
        case .apiKey(let key): apiKey = key
        case .basic(let username, let password): basic = (username, password)
        }
        var answer = CompactJSONObject()
        answer.add("accessToken", oauth?.accessToken)
        answer.add("apiKey", apiKey)
        answer.add("credentialId", credential.id)
        answer.add("expiresAt", oauth == nil ? nil : credential.expiresAt)
        answer.add("integration", credential.integrationKey)
        answer.add("password", basic?.password)
        answer.add("scopes", credential.scopes)
        answer.add("tokenType", oauth?.tokenType)
        answer.add("type", credential.type.rawValue)
        answer.add("username", basic?.username)
        RequestLogNote.current?.note(credential)
        return answer.response()
    }
}
