public import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyStorage

extension CredentialResolver {
    /// After the provider refused `token`'s access token (401): one forced refresh — single flight in this process,
    /// the refresh lease across instances, so a refresh another caller made meanwhile is taken instead — and the
    /// new token, audited as a hand-out. Nil when there is nothing to retry with: not an OAuth credential, or the
    /// refresh gave back the same token (no refresh token). `needs_reauth` or `provider_revoked`, with the
    /// reconnect step, when the refresh itself is refused.
    public func refreshed(after token: Token, for query: Query, caller: Caller) async throws -> Token? {
        let credential = token.credential
        guard credential.type == .oauth2 else { return nil }
        do {
            let (fresh, secret) = try await coordinator.refresh(id: credential.id, tenantID: caller.tenantID, trigger: .forced, leased: false)
            let usable = try Self.secret(of: fresh, secret)
            guard usable != token.secret else { return nil }
            var recorded = try await details(query, caller)
            recorded["owner"] = fresh.externalUserID ?? "shared"
            try await vault.recordTokenAccess(fresh, secret: secret, actor: caller.actor, details: recorded)
            return Token(credential: fresh, secret: usable)
        } catch let error as LatchkeyError {
            throw reconnectable(error, credential: credential, caller: caller)
        }
    }

    /// The answer when the provider still refuses the credential after a refresh (or it cannot be refreshed):
    /// reconnect, with the step to do it.
    public func refusedByProvider(_ token: Token, providerName: String, caller: Caller) -> LatchkeyError {
        reconnectable(
            LatchkeyError(
                .needsReauth,
                "\(providerName) no longer accepts the stored credential (HTTP 401). Please reconnect.",
                action: .init(type: "reconnect")
            ),
            credential: token.credential,
            caller: caller
        )
    }
}
