import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// Storing what an app's connect session produced under the app's Connection for its end user.
extension AppConnectSessions {
    struct Stored {
        var type: CredentialType
        var secret: CredentialSecret
        var scopes: [String]
        var expiresAt: Date?
        var config: [String: String]
        /// Which OAuth client issued it (`ConnectService.clientCredentials`): refresh and revocation use the same.
        var issuedBy = "app"
    }

    /// Stores the credential: a reconnect (or the same provider account again) re-authorizes the existing one in
    /// place; another account is added beside it.
    func storeCredential(
        session: AppConnectSession,
        service: ConnectService.Service,
        stored: Stored,
        identity: AccountIdentity?
    ) async throws
        -> Credential
    {
        let actor = AuditActor(id: "app:\(session.appID)")
        let mine = try await connect.vault.list(
            tenantID: session.tenantID,
            filter: CredentialFilter(connectionID: session.connectionID, limit: 200)
        ).items.filter { $0.endUserID == session.endUserID }
        var existing: Credential?
        if let target = session.reconnectCredentialID, let credential = mine.first(where: { $0.id == target }) {
            let sameAccount = identity == nil || credential.providerAccountID == nil || credential.providerAccountID == identity?.id
            existing = sameAccount ? credential : mine.first { $0.providerAccountID == identity?.id }
        } else if let identity {
            existing = mine.first { $0.providerAccountID == identity.id }
        }
        if let existing {
            var changes = CredentialVault.Changes(
                scopes: stored.scopes,
                expiresAt: .some(stored.expiresAt),
                status: .active,
                providerAccount: identity.map { .some($0.display) } ?? nil,
                secret: stored.secret
            )
            changes.providerAccountID = identity.map { .some($0.id) } ?? nil
            changes.connectionConfig = stored.config
            changes.issuedBy = stored.issuedBy
            changes.lastRefreshedAt = clock.now
            return try await connect.vault.update(id: existing.id, tenantID: session.tenantID, changes: changes, actor: actor)
        }
        guard let external = try await store.externalUserID(endUserID: session.endUserID, tenantID: session.tenantID) else {
            throw AttemptFailure(code: "end_user_deleted", message: "This person was removed from the app meanwhile, so nothing was connected.")
        }
        var new = CredentialVault.NewCredential(
            integration: service.integration.key,
            externalUserID: external,
            connectionID: session.connectionID,
            type: stored.type,
            secret: stored.secret,
            expiresAt: stored.expiresAt,
            scopes: stored.scopes,
            label: identity?.display ?? service.name,
            providerAccount: identity?.display,
            connectionConfig: stored.config
        )
        new.providerAccountID = identity?.id
        new.issuedBy = stored.issuedBy
        return try await connect.vault.create(new, tenantID: session.tenantID, actor: actor)
    }

    /// Completes the claimed session with `credential` and audits it.
    func finish(
        _ machine: inout ExchangeStateMachine,
        session: AppConnectSession,
        app: App,
        service: ConnectService.Service,
        credential: Credential
    ) async throws -> Finished {
        var session = session
        if case .record(let transition) = machine.complete(now: clock.now),
            try await !move(transition, session: session, credentialID: credential.id, integrationKey: service.integration.key)
        {
            connect.logger.warning("app connect session had already moved on", metadata: ["connect_session": "\(session.id)"])
        }
        session.status = .completed
        session.credentialID = credential.id
        _ = try await audit.append(
            AuditRecord(
                actor: AuditActor(id: "app:\(app.id)"),
                action: "connect_session.completed",
                target: session.id,
                service: service.integration.key,
                details: ["app_id": app.id, "end_user_id": session.endUserID, "credential_id": credential.id],
                person: session.endUserID
            ),
            tenantID: session.tenantID
        )
        connect.logger.info("app connect session completed", metadata: ["connect_session": "\(session.id)", "credential_id": "\(credential.id)"])
        return Finished(
            session: session,
            app: app,
            serviceName: service.name,
            succeeded: true,
            error: nil,
            message: "\(service.name) is connected to \(app.branding.displayName ?? app.name).",
            retryToken: nil
        )
    }

    func auditEnd(_ session: AppConnectSession, service: ConnectService.Service, error: String) async throws {
        _ = try await audit.append(
            AuditRecord(
                actor: AuditActor(id: "app:\(session.appID)"),
                action: "connect_session.failed",
                target: session.id,
                service: service.integration.key,
                result: .failure,
                details: ["app_id": session.appID, "end_user_id": session.endUserID, "error": error],
                person: session.endUserID
            ),
            tenantID: session.tenantID
        )
    }

    /// An API key or account details typed on the hosted page: checked with the provider when it can be, then
    /// stored, and the session completed (an attempt begun and claimed at once, by the same rules).
    func storeStatic(_ opened: Opened, form: ConnectFormValues) async throws -> Started {
        let service = opened.service
        let spec = opened.form
        guard spec.isFilled(form) else { return .form("Please fill in every field.") }
        let secret = spec.secret(form)
        if service.provider.probe != nil {
            let accepted: Bool
            do {
                accepted = try await connect.oauth.checkStaticCredential(
                    provider: service.provider,
                    apiKey: secret.apiKey,
                    username: secret.username,
                    password: secret.password
                )
            } catch {
                return .form(ConnectService.describe(error, name: service.name))
            }
            guard accepted else { return .form("\(service.name) did not accept these details. Check them and try again.") }
        }
        let now = clock.now
        var machine = opened.session.exchange
        guard case .record(let begin) = machine.beginAttempt(now: now, deadline: now.addingTimeInterval(AppConnectSession.attemptLifetime)),
            case .record(let claim) = machine.claim(now: now)
        else { throw Unusable.used }
        let attempt = AppConnectSessionRepository.Attempt(
            stateHash: connect.stateHash(SecureRandom.token()),
            sealedVerifier: nil,
            nonce: nil,
            scopes: [],
            templateValues: spec.templateValues(form)
        )
        guard try await store.beginAttempt(begin, id: opened.session.id, attempt: attempt),
            try await store.apply(claim, id: opened.session.id, credentialID: nil)
        else { throw Unusable.used }
        let credential: Credential
        do {
            credential = try await storeCredential(
                session: opened.session,
                service: service,
                stored: .init(
                    type: service.provider.authMode == .basic ? .basic : .apiKey,
                    secret: secret,
                    scopes: [],
                    expiresAt: nil,
                    config: spec.templateValues(form)
                ),
                identity: nil
            )
        } catch {
            try await failClaimed(&machine, session: opened.session, service: service)
            throw error
        }
        return .finished(try await finish(&machine, session: opened.session, app: opened.app, service: service, credential: credential))
    }
}
