public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders
public import LatchkeyStorage
public import Logging

/// The Connect flow of DESIGN §4 for console users: start (state bound to the browser, PKCE S256, exact redirect
/// URI), callback (state claimed once, `iss` checked, code exchanged, identity read, credential stored encrypted and
/// audited), API-key and basic forms, and disconnect (revoked at the provider, best effort, then deleted).
public struct ConnectService: Sendable {
    /// The provider catalog and the tenant's integrations the connect pages list.
    public let catalog: ProviderCatalog
    public let integrations: IntegrationStore
    let vault: CredentialVault
    let sessions: any ConnectSessionStore
    let browser: ConnectBrowserBinding
    let keyring: Keyring
    let oauth: OAuthClient
    let callbackURL: String
    let clock: any LatchkeyClock
    public let logger: Logger

    /// `callbackURL` is the exact redirect URI registered at providers (`{publicURL}/connect/callback`).
    public init(
        catalog: ProviderCatalog,
        integrations: IntegrationStore,
        vault: CredentialVault,
        sessions: any ConnectSessionStore,
        browser: ConnectBrowserBinding,
        keyring: Keyring,
        oauth: OAuthClient,
        callbackURL: String,
        clock: any LatchkeyClock,
        logger: Logger
    ) {
        self.catalog = catalog
        self.integrations = integrations
        self.vault = vault
        self.sessions = sessions
        self.browser = browser
        self.keyring = keyring
        self.oauth = oauth
        self.callbackURL = callbackURL
        self.clock = clock
        self.logger = logger
    }

    /// The OAuth `state` is good for this long; the connect session itself for 30 minutes.
    static let stateLifetime: TimeInterval = 10 * 60
    static let sessionLifetime: TimeInterval = 30 * 60

    /// What the person sees next after asking to connect.
    public enum Start: Sendable {
        /// Off to the provider of `service`. The pages offering this connect expect it to go to
        /// ``redirectOrigin(for:)``; a page whose policy does not cover the URL must not send the browser there
        /// from a form.
        case redirect(URL, service: Service)
        /// A form to fill in first (an API key, a Shopify shop, …).
        case form(ConnectForm)
        /// A static credential was stored.
        case stored(Credential, updated: Bool)
    }

    /// An enabled integration with its catalog entry.
    public struct Service: Sendable {
        public var integration: Integration
        public var provider: Provider
        public var name: String { integration.displayName ?? provider.displayName }

        public init(integration: Integration, provider: Provider) {
            self.integration = integration
            self.provider = provider
        }
    }

    /// The enabled integration `key` of the tenant with its catalog entry; not found otherwise.
    public func service(key: String, tenantID: String) async throws -> Service {
        guard IntegrationRules.isStoredKey(key),
            let integration = try await integrations.integrations.find(key: key, tenantID: tenantID), integration.enabled,
            let provider = catalog.provider(id: integration.provider)
        else {
            throw LatchkeyError(.notFound, "This service is not available to connect. It may have been turned off by an administrator.")
        }
        return Service(integration: integration, provider: provider)
    }

    /// The console end user behind a signed-in user.
    public func endUser(for user: User) async throws -> EndUser {
        guard let app = try await vault.directory.consoleApp(tenantID: user.tenantID) else { throw LatchkeyError.notFound("tenant") }
        return try await vault.directory.findOrCreateEndUser(tenantID: user.tenantID, appID: app.id, externalID: user.id, now: clock.now)
    }

    /// An integration key as one may have been stored: 1 to 64 ASCII letters, digits, dashes, underscores or dots.
    // MARK: Start

    /// Starts connecting `key` for `user` in browser `browserID`: a redirect to the provider, a form to fill in
    /// first, or (API keys, basic credentials) the stored credential. `reconnect` names the user's credential to
    /// replace. `extraScopes` are asked for besides the integration's (a tool that needs more); only scopes the
    /// provider's catalog entry describes are taken.
    public func start(
        user: User,
        key: String,
        browserID: String,
        form: ConnectFormValues?,
        reconnect: String?,
        extraScopes: [String] = []
    ) async throws -> Start {
        let service = try await service(key: key, tenantID: user.tenantID)
        let endUser = try await endUser(for: user)
        if let reconnect { _ = try await ownCredential(reconnect, endUser: endUser, user: user) }
        let spec = ConnectForm(service: service, reconnect: reconnect)
        switch service.provider.authMode {
        case .apiKey, .basic:
            guard let form, spec.isFilled(form) else { return .form(spec) }
            return try await storeStatic(service: service, user: user, endUser: endUser, form: form, spec: spec, reconnect: reconnect)
        case .oauth2ClientCredentials:
            throw LatchkeyError.invalidRequest(
                "\(service.name) connects with the app's own client credentials; there is nothing to connect per person."
            )
        case .oauth2:
            var templateValues: [String: String] = [:]
            if !spec.fields.isEmpty {
                guard let form, spec.isFilled(form) else { return .form(spec) }
                templateValues = spec.templateValues(form)
            }
            let url = try await authorizationURL(
                service: service,
                user: user,
                endUser: endUser,
                appID: endUser.appID,
                browserID: browserID,
                templateValues: templateValues,
                reconnect: reconnect,
                extraScopes: extraScopes
            )
            return .redirect(url, service: service)
        }
    }

    /// The provider's authorization URL for a new connect session of `appID` (whose OAuth client is used when it has
    /// one for the integration). `endUser` is the person who started it; the session is bound to them and the browser.
    func authorizationURL(
        service: Service,
        user: User,
        endUser: EndUser,
        appID: String,
        browserID: String,
        templateValues: [String: String],
        reconnect: String?,
        extraScopes: [String] = []
    ) async throws -> URL {
        guard let oauthSettings = service.provider.oauth,
            let client = try await integrations.client(issuedBy: AppIntegrationConfig.issuer(appID: appID), integration: service.integration)
        else {
            throw LatchkeyError(.unavailable, "\(service.name) is not fully set up yet (no OAuth client). Please ask an administrator.")
        }
        let endpoints: OAuthEndpoints
        do {
            endpoints = try EndpointResolver.resolve(
                provider: service.provider,
                settings: service.integration.settings,
                templateValues: templateValues
            )
        } catch {
            throw ConnectFailure(
                heading: "\(service.name) could not be connected",
                message: Self.describe(error, name: service.name)
            )
        }
        let configured = client.scopes.isEmpty ? service.integration.scopes : client.scopes
        var scopes = configured.isEmpty ? oauthSettings.defaultScopes : configured
        for scope in extraScopes where oauthSettings.scopes[scope] != nil && !scopes.contains(scope) { scopes.append(scope) }
        let state = SecureRandom.token()
        let verifier = oauthSettings.pkce ? PKCE.makeVerifier() : nil
        let nonce = scopes.contains("openid") ? SecureRandom.token(byteCount: 16) : nil
        let now = clock.now
        let session = ConnectSession(
            id: NewID.make(),
            tenantID: user.tenantID,
            appID: appID,
            integrationID: service.integration.id,
            endUserID: endUser.id,
            browserHash: browser.binding(of: browserID),
            nonce: nonce,
            redirectURI: callbackURL,
            scopes: scopes,
            templateValues: templateValues,
            reconnectCredentialID: reconnect,
            status: .pending,
            error: nil,
            credentialID: nil,
            createdAt: now,
            stateExpiresAt: now.addingTimeInterval(Self.stateLifetime),
            expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        )
        let sealed = try verifier.map { try keyring.seal(Data($0.utf8), context: session.verifierContext) }
        // Finished and abandoned attempts are kept for their session lifetime, then go.
        try await sessions.purgeExpired(now: now)
        try await sessions.insert(session, stateHash: stateHash(state), sealedVerifier: sealed)
        let request = AuthorizationRequest(
            provider: service.provider,
            endpoints: endpoints,
            clientID: client.clientID,
            redirectURI: callbackURL,
            scopes: scopes,
            state: state,
            codeChallenge: verifier.map(PKCE.challenge(for:)),
            nonce: nonce
        )
        logger.info("connect started", metadata: ["integration": "\(service.integration.key)", "connect_session": "\(session.id)"])
        return request.url
    }

    func stateHash(_ state: String) -> String { keyring.mac(state, purpose: "connect-state") }

    // MARK: Static credentials

    func storeStatic(
        service: Service,
        user: User,
        endUser: EndUser,
        form: ConnectFormValues,
        spec: ConnectForm,
        reconnect: String?
    ) async throws -> Start {
        let secret = spec.secret(form)
        let templateValues = spec.templateValues(form)
        if service.provider.probe != nil {
            let accepted: Bool
            do {
                accepted = try await oauth.checkStaticCredential(
                    provider: service.provider,
                    apiKey: secret.apiKey,
                    username: secret.username,
                    password: secret.password
                )
            } catch {
                throw ConnectFormError(spec: spec, message: Self.describe(error, name: service.name))
            }
            guard accepted else {
                throw ConnectFormError(spec: spec, message: "\(service.name) did not accept these details. Check them and try again.")
            }
        }
        let actor = AuditActor(id: "user:\(user.id)")
        if let reconnect {
            let changes = CredentialVault.Changes(status: .active, secret: secret)
            var updated = changes
            updated.connectionConfig = templateValues
            let credential = try await vault.update(id: reconnect, tenantID: user.tenantID, changes: updated, actor: actor)
            return .stored(credential, updated: true)
        }
        var new = CredentialVault.NewCredential(
            integration: service.integration.key,
            externalUserID: user.id,
            type: service.provider.authMode == .basic ? .basic : .apiKey,
            secret: secret,
            scopes: [],
            label: "\(service.name) key",
            connectionConfig: templateValues
        )
        new.issuedBy = "user"
        _ = endUser
        return .stored(try await vault.create(new, tenantID: user.tenantID, actor: actor), updated: false)
    }

    // MARK: Helpers

    func resolvedEndpoints(_ service: Service, templateValues: [String: String]) throws -> OAuthEndpoints {
        do {
            return try EndpointResolver.resolve(provider: service.provider, settings: service.integration.settings, templateValues: templateValues)
        } catch {
            throw ConnectFailure(
                heading: "\(service.name) could not be connected",
                message: Self.describe(error, name: service.name)
            )
        }
    }

    /// The client a connect session of `appID` uses: the app's own for the integration when it has one, else the
    /// integration's; `issuedBy` is what the credential records, so that refresh and revoke use the same client.
    func clientCredentials(_ service: Service, appID: String) async throws -> (client: OAuthClientCredentials, issuedBy: String) {
        let chosen = try await integrations.client(issuedBy: AppIntegrationConfig.issuer(appID: appID), integration: service.integration)
        let client = OAuthClientCredentials(
            clientID: chosen?.clientID ?? "",
            clientSecret: chosen?.clientSecret,
            method: service.provider.oauth?.clientAuth ?? .clientSecretBasic
        )
        return (client, chosen?.issuedBy ?? "integration")
    }

    /// Plain words for a failure, naming the service; never a token, code or URL.
    public static func describe(_ error: any Error, name: String) -> String {
        switch error {
        case let error as OAuthClientError: error.message(providerName: name)
        case let error as LatchkeyError: error.message
        case is OutboundError: "Cannot reach \(name). Please try again in a moment."
        default: "Something went wrong while talking to \(name). Please try again."
        }
    }

    /// A provider's error code as it may be shown: short and plain.
    static func printable(_ text: String) -> String {
        let cleaned = text.prefix(64).filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
        return cleaned.isEmpty ? "error" : String(cleaned)
    }
}
