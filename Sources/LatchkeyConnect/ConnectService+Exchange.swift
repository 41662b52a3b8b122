import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// The provider's side of a callback, shared by the console's connect flow and apps' connect sessions: the issuer
/// checked (RFC 9207), a denial told apart, the code exchanged with the right OAuth client, the account read. Each
/// caller turns a ``ProviderExchangeFailure`` into its own words and stores the credential its own way.
extension ConnectService {
    /// What a callback gave at the provider.
    struct ProviderExchange {
        var tokens: TokenSet
        /// The provider account; nil when the provider has no identity call or it failed (the tokens work without it).
        var identity: AccountIdentity?
        /// Which OAuth client issued the tokens (`ConnectService.clientCredentials`): refresh and revocation use it.
        var issuedBy: String
    }

    /// Why a callback gave no tokens.
    enum ProviderExchangeFailure: Error {
        /// The integration's endpoints cannot be built from its settings and the values typed for the attempt.
        case endpoints(any Error)
        /// The answer's `iss` is missing where the provider always sends one, or names another server.
        case issuer(missing: Bool)
        /// The provider answered with an error (`access_denied` when the person said no).
        case denied(String)
        /// The code exchange failed.
        case exchange(any Error)
    }

    /// One attempt's details the exchange needs.
    struct ExchangeAttempt {
        var templateValues: [String: String]
        var appID: String
        var sealedVerifier: Data?
        var verifierContext: EncryptionContext
        var redirectURI: String
        var nonce: String?
    }

    /// Checks the callback's issuer, takes its code and exchanges it with the app's OAuth client for the integration
    /// (else the integration's), then reads the account. Throws ``ProviderExchangeFailure`` for what the person is to
    /// be told about, other errors as they are.
    /// Records that the person did not allow access at the provider (or the provider ended the sign-in with an
    /// error): nothing was connected, and the attempt stays in the audit log.
    func auditDenied(_ error: String, service: Service, actor: AuditActor, tenantID: String, details: [String: String] = [:]) async throws {
        try await vault.audit(
            AuditRecord(
                actor: actor,
                action: "connect.denied",
                target: service.integration.id,
                service: service.integration.key,
                result: .failure,
                details: details.merging(["error": error == "access_denied" ? error : Self.printable(error)]) { a, _ in a }
            ),
            tenantID: tenantID
        )
    }

    func exchangeAtProvider(_ parameters: CallbackParameters, service: Service, attempt: ExchangeAttempt) async throws -> ProviderExchange {
        let endpoints: OAuthEndpoints
        do {
            endpoints = try resolvedEndpoints(service, templateValues: attempt.templateValues)
        } catch {
            throw ProviderExchangeFailure.endpoints(error)
        }
        // RFC 9207: checked on every authorization response, error responses included.
        do {
            try parameters.checkIssuer(expected: endpoints.issuer, required: endpoints.requiresIssuerParameter)
        } catch {
            let missing = parameters.issuer == nil
            logger.warning(
                "callback refused: iss",
                metadata: ["integration": "\(service.integration.key)", "reason": "\(missing ? "missing" : "mismatch")"]
            )
            throw ProviderExchangeFailure.issuer(missing: missing)
        }
        let code: String
        switch parameters {
        case .denied(let error, _, _, _):
            throw ProviderExchangeFailure.denied(error)
        case .code(let value, _, _):
            code = value
        }
        let verifier = try attempt.sealedVerifier.map {
            String(decoding: try keyring.open($0, context: attempt.verifierContext), as: UTF8.self)
        }
        let (client, issuedBy) = try await clientCredentials(service, appID: attempt.appID)
        let tokens: TokenSet
        do {
            tokens = try await oauth.exchangeCode(
                provider: service.provider,
                endpoints: endpoints,
                client: client,
                code: code,
                redirectURI: attempt.redirectURI,
                codeVerifier: verifier,
                nonce: attempt.nonce
            )
        } catch {
            logger.warning("code exchange failed", metadata: ["integration": "\(service.integration.key)", "reason": "\(error)"])
            throw ProviderExchangeFailure.exchange(error)
        }
        // Values only the token answer carries (Salesforce's instance_url) complete the API base for the identity call.
        let fromResponse = EndpointResolver.tokenResponseValues(provider: service.provider, tokens: tokens)
        let identityEndpoints =
            fromResponse.isEmpty
            ? endpoints
            : (try? resolvedEndpoints(service, templateValues: attempt.templateValues.merging(fromResponse) { _, new in new })) ?? endpoints
        let identity: AccountIdentity?
        do {
            identity = try await oauth.fetchIdentity(provider: service.provider, endpoints: identityEndpoints, tokens: tokens)
        } catch {
            // The tokens work without it; the account is shown as unknown.
            logger.warning("identity lookup failed", metadata: ["integration": "\(service.integration.key)", "reason": "\(error)"])
            identity = nil
        }
        return ProviderExchange(tokens: tokens, identity: identity, issuedBy: issuedBy)
    }

    /// The changes that put a new grant on a credential already stored (a reconnect of the same account, or a shared
    /// account connected again): the tokens, scopes, expiry, account and client, and active again.
    func reconnectChanges(
        tokens: TokenSet,
        secret: CredentialSecret,
        scopes: [String],
        identity: AccountIdentity?,
        config: [String: String],
        issuedBy: String
    ) -> CredentialVault.Changes {
        var changes = CredentialVault.Changes(
            scopes: scopes,
            expiresAt: .some(tokens.expiresAt),
            status: .active,
            providerAccount: identity.map { .some($0.display) } ?? nil,
            secret: secret
        )
        changes.providerAccountID = identity.map { .some($0.id) } ?? nil
        changes.connectionConfig = config
        changes.issuedBy = issuedBy
        changes.lastRefreshedAt = clock.now
        return changes
    }
}
