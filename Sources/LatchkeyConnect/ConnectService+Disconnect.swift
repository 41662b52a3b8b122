import Foundation
public import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
public import LatchkeyStorage
import Logging

/// A person's own credentials, and disconnecting them (revoked at the provider, best effort, then deleted).
extension ConnectService {
    // MARK: Listing and disconnect

    /// The signed-in user's own credentials, newest first.
    public func credentials(of user: User, integrationKey: String?) async throws -> [Credential] {
        var out: [Credential] = []
        var cursor: String?
        repeat {
            let page = try await vault.list(
                tenantID: user.tenantID,
                filter: CredentialFilter(integrationKey: integrationKey, externalUserID: user.id, limit: 200, cursor: cursor)
            )
            out += page.items.filter { $0.externalUserID == user.id }
            cursor = page.nextCursor
        } while cursor != nil && out.count < 1000
        return out
    }

    /// The credential `id` if it belongs to this user; not found otherwise (and the probe is audited by the vault).
    public func ownCredential(_ id: String, endUser: EndUser, user: User) async throws -> Credential {
        guard UUID(uuidString: id) != nil else { throw LatchkeyError.notFound("connection") }
        let credential: Credential
        do {
            credential = try await vault.get(id: id.lowercased(), tenantID: user.tenantID, actor: AuditActor(id: "user:\(user.id)"))
        } catch let error as LatchkeyError where error.code == .notFound {
            throw LatchkeyError.notFound("connection")
        }
        guard credential.endUserID == endUser.id else { throw LatchkeyError.notFound("connection") }
        return credential
    }

    /// Revokes at the provider (best effort, recorded) and deletes the credential at once; returns the credential as it
    /// was, so the result can name the service and the account.
    @discardableResult
    public func disconnect(credentialID: String, user: User) async throws -> Credential {
        let endUser = try await endUser(for: user)
        let credential = try await ownCredential(credentialID, endUser: endUser, user: user)
        try await revokeAndDelete(credential, actor: AuditActor(id: "user:\(user.id)"))
        return credential
    }

    // MARK: Label and default

    /// Sets (or, with nil, clears) the label of the person's own credential: the vault's update, as the API's
    /// `PATCH /api/v1/credentials/{id}` makes it, audited as `credential.update` by the person. The caller checks the
    /// text first (``labelProblem(_:)``).
    public func relabel(credentialID: String, label: String?, user: User, actor: AuditActor) async throws -> Credential {
        let credential = try await ownCredential(credentialID, endUser: try await endUser(for: user), user: user)
        return try await vault.update(id: credential.id, tenantID: user.tenantID, changes: .init(label: .some(label)), actor: actor)
    }

    /// What is wrong with a label a person typed, in plain words; nil when it can be stored. At most 200 characters
    /// (the API's limit) and no control characters (a line break, a tab): a label is shown on one line.
    public static func labelProblem(_ label: String) -> String? {
        if label.count > 200 { return "Keep the label to 200 characters or fewer (it has \(label.count))." }
        if label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "Use letters, digits, spaces and punctuation only: the label cannot hold line breaks, tabs or other control characters."
        }
        return nil
    }

    /// Makes the person's own credential the one used by default for its service (the others of that service stop
    /// being the default): the vault's update, as the API's `PATCH … {"isDefault": true}` makes it.
    public func makeDefault(credentialID: String, user: User, actor: AuditActor) async throws -> Credential {
        let credential = try await ownCredential(credentialID, endUser: try await endUser(for: user), user: user)
        return try await vault.update(id: credential.id, tenantID: user.tenantID, changes: .init(isDefault: true), actor: actor)
    }

    /// Revokes the credential at its provider when the provider supports it (best effort: a failure is recorded,
    /// not fatal) and deletes it at once. The audit event records the outcome, which is also returned.
    @discardableResult
    public func revokeAndDelete(_ credential: Credential, actor: AuditActor) async throws -> ProviderRevocation {
        let outcome = credential.type == .oauth2 ? await revoke(credential, actor: actor) : .notSupported
        try await vault.delete(id: credential.id, tenantID: credential.tenantID, actor: actor, providerRevocation: outcome)
        return outcome
    }

    /// Asks the provider to revoke the credential's tokens. The provider context is the one refresh uses (endpoints filled from the
    /// credential, the client that issued it).
    func revoke(_ credential: Credential, actor: AuditActor) async -> ProviderRevocation {
        // Without an OAuth client or a revocation endpoint there is nothing to call, and the secret is not opened.
        let resolver = ProviderResolver(catalog: catalog, integrations: integrations)
        guard let context = try? await resolver.context(for: credential), context.endpoints.revocationURL != nil else { return .notSupported }
        do {
            // Read to be revoked, not handed out: the `credential.delete` event records it, with the outcome.
            guard let secret = try await vault.load(id: credential.id, tenantID: credential.tenantID, actor: actor)?.secret else { return .failed }
            var result = RevocationResult.notSupported
            if let refresh = secret.refreshToken {
                result = try await oauth.revoke(
                    provider: context.provider,
                    endpoints: context.endpoints,
                    client: context.client,
                    token: refresh,
                    tokenTypeHint: "refresh_token"
                )
            }
            if let access = secret.accessToken, result != .notSupported || secret.refreshToken == nil {
                result = try await oauth.revoke(
                    provider: context.provider,
                    endpoints: context.endpoints,
                    client: context.client,
                    token: access,
                    tokenTypeHint: "access_token"
                )
            }
            return result == .revoked ? .revoked : .notSupported
        } catch {
            logger.warning("revocation failed", metadata: ["credential_id": "\(credential.id)", "reason": "\(error)"])
            return .failed
        }
    }
}
