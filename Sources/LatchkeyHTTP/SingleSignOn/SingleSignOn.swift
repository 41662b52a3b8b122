import Foundation
import LatchkeyConnect
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// Single sign-on (an OpenID Connect provider, the generic `oidc` integration) and social sign-in (an OAuth provider
/// whose user-info names the person, such as GitHub): which integrations may sign people in, the redirect to the
/// provider, and what its answer proves.
struct SingleSignOn: Sendable {
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let providers: SignInProviderRepository
    let oauth: OAuthClient
    let transport: any HTTPTransport
    let keys: JWKSCache
    let verifier: IDTokenVerifier
    let keyring: Keyring
    let audit: AuditLog
    let clock: any LatchkeyClock
    /// The address providers send people back to (`<public URL>/login/sso/callback`): to register at the provider.
    let redirectURI: String
    let logger: Logger

    static let callbackPath = "/login/sso/callback"
    static let flowLifetime: TimeInterval = 10 * 60

    /// An integration that can sign people in.
    struct Candidate: Sendable {
        enum Kind: String, Sendable {
            case oidc
            case social
        }

        let integration: Integration
        let provider: Provider
        let kind: Kind
        let endpoints: OAuthEndpoints
        var name: String { integration.displayName ?? provider.displayName }
        var method: SignInMethod { kind == .oidc ? .oidc : .social }
    }

    /// The person a provider vouched for.
    struct Person: Sendable {
        /// The identity's provider: the issuer (single sign-on) or the integration key (social).
        let provider: String
        let subject: String
        let email: String?
        let emailVerified: Bool
        let name: String?
    }

    /// The integration `key` of the tenant when it can sign people in; a 4xx in plain words otherwise.
    func candidate(key: String, tenantID: String) async throws -> Candidate {
        guard IntegrationRules.isStoredKey(key), let integration = try await integrations.integrations.find(key: key, tenantID: tenantID) else {
            throw LatchkeyError(.notFound, "There is no integration \"\(String(key.prefix(64)))\". Check the integration's key.")
        }
        let name = integration.displayName ?? integration.key
        guard integration.enabled else {
            throw LatchkeyError(.conflict, "The integration \(name) is turned off. Turn it on before using it to sign people in.")
        }
        guard let provider = catalog.provider(id: integration.provider), provider.authMode == .oauth2 else {
            throw LatchkeyError.invalidRequest("\(name) cannot sign people in: only OAuth and OpenID Connect providers can.")
        }
        let endpoints: OAuthEndpoints
        do {
            endpoints = try EndpointResolver.resolve(provider: provider, settings: integration.settings, templateValues: [:])
        } catch {
            throw LatchkeyError.invalidRequest("\(name) cannot sign people in: \(ConnectService.describe(error, name: name))")
        }
        guard integration.clientID?.isEmpty == false else {
            throw LatchkeyError.invalidRequest("\(name) cannot sign people in: it has no OAuth client id. Set one on the integration first.")
        }
        if provider.id == "oidc" {
            guard integration.settings["discoveryURL"] != nil || endpoints.issuer != nil else {
                throw LatchkeyError.invalidRequest("\(name) cannot sign people in: it has no discovery URL.")
            }
            return Candidate(integration: integration, provider: provider, kind: .oidc, endpoints: endpoints)
        }
        guard provider.identity != nil || endpoints.userInfoURL != nil else {
            throw LatchkeyError.invalidRequest(
                "\(name) cannot sign people in: its provider has no user-info endpoint that says who the person is."
            )
        }
        return Candidate(integration: integration, provider: provider, kind: .social, endpoints: endpoints)
    }

    /// The enabled sign-in providers of a tenant that can still sign people in, for the sign-in page.
    func enabled(tenantID: String) async throws -> [Candidate] {
        var found: [Candidate] = []
        for settings in try await providers.all(tenantID: tenantID) where settings.enabled {
            if let candidate = try? await candidate(key: settings.integrationKey, tenantID: tenantID) { found.append(candidate) }
        }
        return found
    }

    /// Keeps a new sign-in under way and returns the provider's authorization URL (code, PKCE S256, `state`, `nonce`).
    func start(_ candidate: Candidate, tenantID: String, browserBinding: String, linkUserID: String?, next: String) async throws -> URL {
        let state = SecureRandom.token()
        let nonce = SecureRandom.token()
        let flow = SignInFlow(
            tenantID: tenantID,
            integrationKey: candidate.integration.key,
            browserBinding: browserBinding,
            nonce: nonce,
            linkUserID: linkUserID,
            next: next,
            expiresAt: clock.now.addingTimeInterval(Self.flowLifetime)
        )
        try await providers.insertFlow(flow, stateHash: stateHash(state), now: clock.now)
        let scopes: [String]
        switch candidate.kind {
        case .oidc: scopes = ["openid", "email", "profile"]
        case .social:
            scopes = candidate.integration.scopes.isEmpty ? candidate.provider.oauth?.defaultScopes ?? [] : candidate.integration.scopes
        }
        let request = AuthorizationRequest(
            provider: candidate.provider,
            endpoints: candidate.endpoints,
            clientID: candidate.integration.clientID ?? "",
            redirectURI: redirectURI,
            scopes: scopes,
            state: state,
            codeChallenge: PKCE.challenge(for: verifier(state)),
            nonce: candidate.kind == .oidc ? nonce : nil
        )
        logger.info("single sign-on started", metadata: ["integration": "\(candidate.integration.key)", "kind": "\(candidate.kind.rawValue)"])
        return request.url
    }

    /// Takes the sign-in under way that `state` names; nil when unknown, used or expired.
    func take(state: String) async throws -> SignInFlow? {
        try await providers.takeFlow(stateHash: stateHash(state), now: clock.now)
    }

    /// Exchanges the code and finds out who the person is: the id_token's `iss`/`sub` after every check (single
    /// sign-on), or the provider's user-info (social). Errors are ``SignInFailure``s in plain words.
    func person(_ candidate: Candidate, flow: SignInFlow, code: String, state: String) async throws -> Person {
        let name = candidate.name
        let chosen = try await integrations.client(issuedBy: nil, integration: candidate.integration)
        let client = OAuthClientCredentials(
            clientID: chosen?.clientID ?? "",
            clientSecret: chosen?.clientSecret,
            method: candidate.provider.oauth?.clientAuth ?? .clientSecretBasic
        )
        let tokens: TokenSet
        do {
            tokens = try await oauth.exchangeCode(
                provider: candidate.provider,
                endpoints: candidate.endpoints,
                client: client,
                code: code,
                redirectURI: redirectURI,
                codeVerifier: verifier(state),
                nonce: candidate.kind == .oidc ? flow.nonce : nil
            )
        } catch {
            if case .idTokenMismatch = error.kind {
                // The answer's id_token names another client or sign-in (`aud`, `iss`, a replayed `nonce`): audited as such.
                logger.notice("id_token refused", metadata: ["integration": "\(candidate.integration.key)", "reason": "\(error)"])
                throw SignInFailure(reason: "id_token", message: ConnectService.describe(error, name: name))
            }
            logger.notice("single sign-on code exchange failed", metadata: ["integration": "\(candidate.integration.key)"])
            throw SignInFailure(reason: "token_exchange", message: ConnectService.describe(error, name: name))
        }
        switch candidate.kind {
        case .oidc:
            guard let idToken = tokens.idToken else {
                throw SignInFailure(reason: "no_id_token", message: "\(name) did not say who you are (no id_token). Ask your administrator.")
            }
            do {
                let location = try await keys.location(discoveryURL: discoveryURL(candidate))
                let verified = try await verifier.verify(
                    idToken,
                    expecting: IDTokenExpectations(
                        issuer: location.issuer,
                        clientID: client.clientID,
                        nonce: flow.nonce,
                        keySetURL: location.keySetURL
                    )
                )
                return Person(
                    provider: verified.issuer,
                    subject: verified.subject,
                    email: verified.email?.lowercased(),
                    emailVerified: verified.emailVerified,
                    name: verified.name
                )
            } catch let error as IDTokenError {
                logger.notice("id_token refused", metadata: ["integration": "\(candidate.integration.key)", "reason": "\(error.message)"])
                throw SignInFailure(reason: "id_token", message: "Signing in with \(name) failed: \(error.message). Please start again.")
            }
        case .social:
            let profile = SocialProfile(transport: transport, oauth: oauth)
            do {
                let found = try await profile.read(provider: candidate.provider, endpoints: candidate.endpoints, tokens: tokens)
                return Person(
                    provider: candidate.integration.key,
                    subject: found.id,
                    email: found.email?.lowercased(),
                    emailVerified: found.emailVerified,
                    name: found.name
                )
            } catch {
                throw SignInFailure(reason: "user_info", message: ConnectService.describe(error, name: name))
            }
        }
    }

    /// The discovery document of an `oidc` integration: its `discoveryURL` setting, else its issuer's well-known one.
    private func discoveryURL(_ candidate: Candidate) throws -> URL {
        if let text = candidate.integration.settings["discoveryURL"], let url = URL(string: text) { return url }
        let issuer = candidate.endpoints.issuer ?? ""
        guard let url = URL(string: (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration") else {
            throw SignInFailure(reason: "configuration", message: "\(candidate.name) has no discovery URL. Ask your administrator.")
        }
        return url
    }

    private func stateHash(_ state: String) -> String { keyring.mac(state, purpose: "sign-in-state") }

    /// The PKCE verifier of a flow, derived from its `state` so that nothing secret is stored (64 hex characters).
    private func verifier(_ state: String) -> String { keyring.mac(state, purpose: "sign-in-pkce") }
}

/// A sign-in the provider's answer did not complete: what to tell the person, and a short reason for the audit.
struct SignInFailure: Error, Sendable {
    let reason: String
    let message: String
}
