import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/credentials`: the vault's own surface for tenant admins.
struct CredentialsController {
    let vault: CredentialVault
    let maxBodySize: Int
    /// Revokes at the provider (best effort) and deletes.
    let revokeAndDelete: @Sendable (Credential, AuditActor) async throws -> Void

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.post, "credentials", recorder: recorder, use: create)
        group.route(.get, "credentials", recorder: recorder, use: list)
        group.route(.get, "credentials/:id", recorder: recorder, use: show)
        group.route(.patch, "credentials/:id", recorder: recorder, use: update)
        group.route(.delete, "credentials/:id", recorder: recorder, use: delete)
        group.route(.post, "credentials/:id/reveal", recorder: recorder, use: reveal)
    }

    @Sendable func create(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(CreateCredentialRequest.self, from: request, limit: maxBodySize)
        let (credential, createdIntegration) = try await vault.createReporting(
            try body.validated(),
            tenantID: context.tenantID,
            actor: context.actor(for: request)
        )
        var response = CredentialResponse(credential)
        if createdIntegration {
            let key = credential.integrationKey
            response.notice =
                "The integration \(key) was not set up, so it was created disabled: the credential works for the API, but nobody is offered "
                + "to connect \(key) until you give it an OAuth client and enable it (PATCH /api/v1/integrations/\(key) with clientId, "
                + "clientSecret and \"enabled\": true)."
        }
        return try JSON.response(
            response,
            status: .created,
            headers: [.location: "/api/v1/credentials/\(credential.id)"]
        )
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let filter = CredentialFilter(
            integrationKey: request.query("integration"),
            externalUserID: request.query("externalUserId"),
            connectionID: try request.queryUUID("connectionId", what: "connection"),
            status: try request.query("status", oneOf: CredentialStatus.allCases),
            limit: try request.limit(),
            cursor: request.query("cursor")
        )
        let page = try await vault.list(tenantID: context.tenantID, filter: filter, actor: context.actor(for: request))
        return try JSON.response(ListEnvelope(items: page.entries.map(CredentialListItem.init), nextCursor: page.nextCursor))
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "credential")
        return try JSON.response(CredentialResponse(try await vault.get(id: id, tenantID: context.tenantID, actor: context.actor(for: request))))
    }

    @Sendable func reveal(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "credential")
        let (credential, secret) = try await vault.reveal(id: id, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(RevealResponse(credential: CredentialResponse(credential), secret: secret))
    }

    @Sendable func update(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "credential")
        let body = try await JSON.decode(UpdateCredentialRequest.self, from: request, limit: maxBodySize)
        if let label = body.label, label.count > 200 { throw LatchkeyError.invalidField("label", "must be at most 200 characters") }
        if let label = body.label, label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw LatchkeyError.invalidField("label", "must be one line: no line breaks, tabs or other control characters")
        }
        var expiry: Date?
        if let text = body.expiresAt {
            guard let date = ISO8601.parse(text) else {
                throw LatchkeyError.invalidField("expiresAt", "must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z")
            }
            expiry = date
        }
        if body.isDefault == false {
            throw LatchkeyError.invalidField("isDefault", "can only be set to true (make another credential the default instead)")
        }
        var secret: CredentialSecret?
        if body.changesSecret {
            secret = CredentialSecret(
                accessToken: body.accessToken,
                refreshToken: body.refreshToken,
                apiKey: body.apiKey,
                username: body.username,
                password: body.password
            )
        }
        let changes = CredentialVault.Changes(
            label: body.label.map { .some($0) },
            scopes: body.scopes,
            expiresAt: expiry.map { .some($0) },
            providerAccount: body.providerAccount.map { .some($0) },
            isDefault: body.isDefault,
            secret: secret
        )
        let credential = try await vault.update(id: id, tenantID: context.tenantID, changes: changes, actor: context.actor(for: request))
        return try JSON.response(CredentialResponse(credential))
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "credential")
        let actor = context.actor(for: request)
        let credential: Credential
        do {
            credential = try await vault.get(id: id, tenantID: context.tenantID, actor: actor)
        } catch let error as LatchkeyError where error.code == .decryptionFailed {
            // A damaged row: nothing can be revoked with it, but it can be removed.
            try await vault.deleteUnreadable(id: id, tenantID: context.tenantID, actor: actor)
            return Response(status: .noContent)
        }
        try await revokeAndDelete(credential, actor)
        return Response(status: .noContent)
    }
}
