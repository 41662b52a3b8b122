import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyGateway
import LatchkeyStorage

/// `POST /api/v1/credentials/token`: a usable access token for a caller, refreshed first when it has expired or is
/// about to (exactly once across all instances). Audited.
struct TokenController {
    let vault: CredentialVault
    let coordinator: RefreshCoordinator
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
        guard Validation.isKey(integration) else { throw LatchkeyError.invalidField("integration", "must be an integration key") }
        if let external = body.externalUserId, external.isEmpty || external.count > 255 {
            throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters")
        }
        let actor = context.actor(for: request)
        let credential: Credential
        if let id = body.credentialId {
            guard UUID(uuidString: id) != nil else { throw LatchkeyError.invalidField("credentialId", "is not a valid credential id") }
            credential = try await vault.get(id: id.lowercased(), tenantID: context.tenantID, actor: actor)
            guard credential.integrationKey == integration else {
                throw LatchkeyError.invalidField("credentialId", "belongs to integration \(credential.integrationKey), not \(integration)")
            }
            if let external = body.externalUserId, credential.externalUserID != nil, credential.externalUserID != external {
                throw LatchkeyError.notFound("credential")
            }
        } else {
            let resolved: Credential?
            do {
                resolved = try await vault.resolve(tenantID: context.tenantID, integrationKey: integration, externalUserID: body.externalUserId)
            } catch let error as StorageError {
                throw try await vault.damaged(error, tenantID: context.tenantID, actor: actor)
            }
            guard let found = resolved else {
                throw LatchkeyError(
                    .notConnected,
                    "Nothing is connected for \(integration)\(body.externalUserId.map { " and user \($0)" } ?? ""). Connect the account first.",
                    action: .init(type: "connect", url: "/connections")
                )
            }
            credential = found
        }
        let fresh: Credential
        let secret: CredentialSecret
        do {
            (fresh, secret) = try await coordinator.freshToken(id: credential.id, tenantID: context.tenantID)
        } catch let error as LatchkeyError where error.code == .decryptionFailed {
            // The vault flagged and audited the unreadable credential; record who asked for it.
            try await vault.audit(
                AuditRecord(
                    actor: actor,
                    action: "credential.token",
                    target: credential.id,
                    service: credential.integrationKey,
                    result: "failure",
                    details: ["reason": "decryption_failed"]
                ),
                tenantID: context.tenantID
            )
            throw error
        }
        guard let accessToken = secret.accessToken else {
            throw LatchkeyError.invalidRequest("This credential is not an OAuth token; use reveal for API keys and passwords.")
        }
        try await vault.recordTokenAccess(fresh, secret: secret, actor: actor)
        return try JSON.response(
            TokenResponse(
                accessToken: accessToken,
                tokenType: secret.tokenType.map { $0.lowercased() == "bearer" ? "Bearer" : $0 } ?? "Bearer",
                expiresAt: fresh.expiresAt,
                credentialId: fresh.id,
                integration: fresh.integrationKey,
                scopes: fresh.scopes
            )
        )
    }
}
