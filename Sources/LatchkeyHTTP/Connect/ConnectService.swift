import Foundation
import HTTPTypes
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging
import SQLKit

/// The Connect flow of DESIGN §4 for console users: start (state bound to the browser, PKCE S256, exact redirect
/// URI), callback (state claimed once, `iss` checked, code exchanged, identity read, credential stored encrypted and
/// audited), API-key and basic forms, and disconnect (revoked at the provider, best effort, then deleted).
struct ConnectService: Sendable {
    let database: Database
    let catalog: ProviderCatalog
    let integrations: IntegrationStore
    let vault: CredentialVault
    let sessions: ConnectSessionRepository
    let webSessions: WebSessionStore
    let keyring: Keyring
    let oauth: OAuthClient
    let callbackURL: String
    let clock: any LatchkeyClock
    let logger: Logger

    /// The OAuth `state` is good for this long; the connect session itself for 30 minutes.
    static let stateLifetime: TimeInterval = 10 * 60
    static let sessionLifetime: TimeInterval = 30 * 60

    /// What the person sees next after asking to connect.
    enum Start: Sendable {
        /// Off to the provider.
        case redirect(URL)
        /// A form to fill in first (an API key, a Shopify shop, …).
        case form(ConnectForm)
        /// A static credential was stored.
        case stored(Credential, updated: Bool)
    }

    /// An enabled integration with its catalog entry.
    struct Service: Sendable {
        var integration: Integration
        var provider: Provider
        var name: String { integration.displayName ?? provider.displayName }
    }

    func service(key: String, tenantID: String) async throws -> Service {
        guard IntegrationRules.isIntegrationKey(key) || Validation.isKey(key),
            let integration = try await integrations.integrations.find(key: key, tenantID: tenantID), integration.enabled,
            let provider = catalog.provider(id: integration.provider)
        else {
            throw LatchkeyError(.notFound, "This service is not available to connect. It may have been turned off by an administrator.")
        }
        return Service(integration: integration, provider: provider)
    }

    /// The console end user behind a signed-in user.
    func endUser(for user: User) async throws -> EndUser {
        guard let app = try await vault.directory.consoleApp(tenantID: user.tenantID) else { throw LatchkeyError.notFound("tenant") }
        let now = clock.now
        return try await database.write { db in
            try await vault.directory.findOrCreateEndUser(tenantID: user.tenantID, appID: app.id, externalID: user.id, now: now, on: db)
        }
    }

    // MARK: Start

    func start(user: User, key: String, browserID: String, form: WebForm?, reconnect: String?) async throws -> Start {
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
            return .redirect(
                try await authorizationURL(
                    service: service,
                    user: user,
                    endUser: endUser,
                    browserID: browserID,
                    templateValues: templateValues,
                    reconnect: reconnect
                )
            )
        }
    }

    private func authorizationURL(
        service: Service,
        user: User,
        endUser: EndUser,
        browserID: String,
        templateValues: [String: String],
        reconnect: String?
    ) async throws -> URL {
        guard let oauthSettings = service.provider.oauth, let clientID = service.integration.clientID, !clientID.isEmpty else {
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
                message: Self.describe(error, name: service.name),
                status: .badRequest
            )
        }
        let scopes = service.integration.scopes.isEmpty ? oauthSettings.defaultScopes : service.integration.scopes
        let state = SecureRandom.token()
        let verifier = oauthSettings.pkce ? PKCE.makeVerifier() : nil
        let nonce = scopes.contains("openid") ? SecureRandom.token(byteCount: 16) : nil
        let now = clock.now
        let session = ConnectSession(
            id: NewID.make(),
            tenantID: user.tenantID,
            appID: endUser.appID,
            integrationID: service.integration.id,
            endUserID: endUser.id,
            browserHash: webSessions.browserBinding(browserID, purpose: "connect-browser"),
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
            clientID: clientID,
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

    private func storeStatic(
        service: Service,
        user: User,
        endUser: EndUser,
        form: WebForm,
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

    // MARK: Callback

    /// The outcome of a successful callback.
    struct Completed: Sendable {
        var credential: Credential
        var serviceName: String
        var updated: Bool
    }

    func complete(query: [String: String], browserID: String?, signedInUser: User?) async throws -> Completed {
        let parameters: CallbackParameters
        do {
            parameters = try CallbackParameters.parse(query: query)
        } catch {
            throw ConnectFailure.badState("The provider sent us back without the details we need. Please start again from your connections.")
        }
        let state: String? =
            switch parameters {
            case .code(_, let state, _): state
            case .denied(_, _, let state): state
            }
        guard let state, state.count <= 512, let found = try await sessions.find(stateHash: stateHash(state)) else {
            throw ConnectFailure.badState("This sign-in link is not valid or was already used. Please start again from your connections.")
        }
        let session = found.session
        let now = clock.now
        guard let browserID, webSessions.browserBinding(browserID, purpose: "connect-browser") == session.browserHash else {
            throw ConnectFailure.badState(
                "This sign-in was started in another browser. For your safety it can only be finished where it began. Please start again here."
            )
        }
        guard session.status == .pending else {
            throw ConnectFailure.badState("This sign-in link was already used. Please start again from your connections.")
        }
        guard session.stateExpiresAt > now else {
            try await sessions.finish(id: session.id, status: .failed, error: "expired", credentialID: nil, now: now)
            throw ConnectFailure.badState("This sign-in took too long and expired. Please start again from your connections.")
        }
        guard let user = signedInUser, user.tenantID == session.tenantID, try await endUser(for: user).id == session.endUserID else {
            throw ConnectFailure.badState("Please sign in as the person who started this connection, then start again.")
        }
        guard let integration = try await integrations.integrations.find(id: session.integrationID, tenantID: session.tenantID),
            let provider = catalog.provider(id: integration.provider)
        else {
            throw ConnectFailure.badState("This service is no longer available to connect.")
        }
        let service = Service(integration: integration, provider: provider)
        guard try await sessions.claim(id: session.id, now: now) else {
            throw ConnectFailure.badState("This sign-in link was already used. Please start again from your connections.")
        }
        do {
            let completed = try await exchange(parameters, session: session, sealedVerifier: found.sealedVerifier, service: service, user: user)
            try await sessions.finish(id: session.id, status: .completed, error: nil, credentialID: completed.credential.id, now: clock.now)
            return completed
        } catch var failure as ConnectFailure {
            try await sessions.finish(id: session.id, status: .failed, error: failure.heading, credentialID: nil, now: clock.now)
            failure.retryKey = failure.retryKey ?? integration.key
            failure.reconnect = session.reconnectCredentialID
            throw failure
        } catch {
            try await sessions.finish(id: session.id, status: .failed, error: "internal", credentialID: nil, now: clock.now)
            throw error
        }
    }

    private func exchange(
        _ parameters: CallbackParameters,
        session: ConnectSession,
        sealedVerifier: Data?,
        service: Service,
        user: User
    ) async throws -> Completed {
        let name = service.name
        let code: String
        switch parameters {
        case .denied(let error, _, _):
            let message =
                error == "access_denied"
                ? "You did not allow access at \(name), so nothing was connected. You can try again whenever you like."
                : "\(name) did not complete the sign-in (it answered “\(Self.printable(error))”). Nothing was connected; you can try again."
            throw ConnectFailure(heading: "\(name) was not connected", message: message, status: .badRequest)
        case .code(let value, _, let issuer):
            let endpoints = try resolvedEndpoints(service, templateValues: session.templateValues)
            if let issuer, let expected = endpoints.issuer, issuer != expected {
                throw ConnectFailure(
                    heading: "\(name) was not connected",
                    message: "The answer came from a different sign-in server than the one we sent you to, so it was refused. Nothing was connected.",
                    status: .badRequest
                )
            }
            code = value
        }
        let endpoints = try resolvedEndpoints(service, templateValues: session.templateValues)
        let verifier = try sealedVerifier.map { String(decoding: try keyring.open($0, context: session.verifierContext), as: UTF8.self) }
        let client = try await clientCredentials(service)
        let tokens: TokenSet
        do {
            tokens = try await oauth.exchangeCode(
                provider: service.provider,
                endpoints: endpoints,
                client: client,
                code: code,
                redirectURI: session.redirectURI,
                codeVerifier: verifier,
                nonce: session.nonce
            )
        } catch {
            logger.warning("code exchange failed", metadata: ["integration": "\(service.integration.key)", "reason": "\(error)"])
            throw ConnectFailure(heading: "\(name) was not connected", message: Self.describe(error, name: name), status: .badGateway)
        }
        // Values only the token answer carries (Salesforce's instance_url) complete the API base for the identity call.
        let fromResponse = EndpointResolver.tokenResponseValues(provider: service.provider, tokens: tokens)
        let identityEndpoints =
            fromResponse.isEmpty
            ? endpoints
            : (try? resolvedEndpoints(service, templateValues: session.templateValues.merging(fromResponse) { _, new in new })) ?? endpoints
        let identity: AccountIdentity?
        do {
            identity = try await oauth.fetchIdentity(provider: service.provider, endpoints: identityEndpoints, tokens: tokens)
        } catch {
            // The tokens work without it; the account is shown as unknown.
            logger.warning("identity lookup failed", metadata: ["integration": "\(service.integration.key)", "reason": "\(error)"])
            identity = nil
        }
        return try await store(tokens: tokens, identity: identity, session: session, service: service, user: user)
    }

    private func store(tokens: TokenSet, identity: AccountIdentity?, session: ConnectSession, service: Service, user: User) async throws -> Completed
    {
        let config = session.templateValues.merging(EndpointResolver.tokenResponseValues(provider: service.provider, tokens: tokens)) { _, new in new
        }
        let secret = CredentialSecret(
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            tokenType: tokens.tokenType,
            idToken: tokens.idToken
        )
        let scopes = tokens.scopes ?? session.scopes
        let actor = AuditActor(id: "user:\(user.id)")
        // Same account again (or an explicit reconnect of it): update in place; another account: a new credential beside it.
        if let existing = try await matchingCredential(session: session, identity: identity, user: user, key: service.integration.key) {
            var changes = CredentialVault.Changes(
                scopes: scopes,
                expiresAt: .some(tokens.expiresAt),
                status: .active,
                providerAccount: identity.map { .some($0.display) } ?? nil,
                secret: secret
            )
            changes.providerAccountID = identity.map { .some($0.id) } ?? nil
            changes.connectionConfig = config
            changes.issuedBy = "integration"
            changes.lastRefreshedAt = clock.now
            let credential = try await vault.update(id: existing.id, tenantID: user.tenantID, changes: changes, actor: actor)
            logger.info("credential reconnected", metadata: ["credential_id": "\(credential.id)", "integration": "\(service.integration.key)"])
            return Completed(credential: credential, serviceName: service.name, updated: true)
        }
        var new = CredentialVault.NewCredential(
            integration: service.integration.key,
            externalUserID: user.id,
            type: .oauth2,
            secret: secret,
            expiresAt: tokens.expiresAt,
            scopes: scopes,
            label: identity?.display ?? service.name,
            providerAccount: identity?.display,
            connectionConfig: config
        )
        new.providerAccountID = identity?.id
        new.issuedBy = "integration"
        let credential = try await vault.create(new, tenantID: user.tenantID, actor: actor)
        return Completed(credential: credential, serviceName: service.name, updated: false)
    }

    private func matchingCredential(session: ConnectSession, identity: AccountIdentity?, user: User, key: String) async throws -> Credential? {
        let mine = try await credentials(of: user, integrationKey: key)
        if let target = session.reconnectCredentialID, let credential = mine.first(where: { $0.id == target }) {
            // A reconnect that comes back as another account adds that account instead of overwriting this one.
            if let identity, let known = credential.providerAccountID, known != identity.id {
                return mine.first { $0.providerAccountID == identity.id }
            }
            return credential
        }
        guard let identity else { return nil }
        return mine.first { $0.providerAccountID == identity.id }
    }

    // MARK: Listing and disconnect

    /// The signed-in user's own credentials, newest first.
    func credentials(of user: User, integrationKey: String?) async throws -> [Credential] {
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
    func ownCredential(_ id: String, endUser: EndUser, user: User) async throws -> Credential {
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

    /// Revokes at the provider (best effort, recorded) and deletes the credential at once; returns the integration key.
    func disconnect(credentialID: String, user: User) async throws -> String {
        let endUser = try await endUser(for: user)
        let credential = try await ownCredential(credentialID, endUser: endUser, user: user)
        try await revokeAndDelete(credential, actor: AuditActor(id: "user:\(user.id)"))
        return credential.integrationKey
    }

    /// Revokes the credential at its provider when the provider supports it (best effort: a failure is recorded,
    /// not fatal) and deletes it at once. The audit event records the outcome.
    func revokeAndDelete(_ credential: Credential, actor: AuditActor) async throws {
        var outcome = "not_supported"
        if credential.type == .oauth2,
            let integration = try await integrations.integrations.find(key: credential.integrationKey, tenantID: credential.tenantID),
            let provider = catalog.provider(id: integration.provider)
        {
            outcome = await revoke(credential: credential, service: Service(integration: integration, provider: provider), actor: actor)
        }
        try await vault.delete(id: credential.id, tenantID: credential.tenantID, actor: actor, providerRevocation: outcome)
    }

    private func revoke(credential: Credential, service: Service, actor: AuditActor) async -> String {
        // Without an OAuth client or a revocation endpoint there is nothing to call, and the secret is not opened.
        guard let clientID = service.integration.clientID, !clientID.isEmpty,
            let endpoints = try? resolvedEndpoints(service, templateValues: credential.connectionConfig), endpoints.revocationURL != nil
        else { return "not_supported" }
        do {
            let (_, secret) = try await vault.reveal(id: credential.id, tenantID: credential.tenantID, actor: actor)
            let client = try await clientCredentials(service)
            var result = RevocationResult.notSupported
            if let refresh = secret.refreshToken {
                result = try await oauth.revoke(
                    provider: service.provider,
                    endpoints: endpoints,
                    client: client,
                    token: refresh,
                    tokenTypeHint: "refresh_token"
                )
            }
            if let access = secret.accessToken, result != .notSupported || secret.refreshToken == nil {
                result = try await oauth.revoke(
                    provider: service.provider,
                    endpoints: endpoints,
                    client: client,
                    token: access,
                    tokenTypeHint: "access_token"
                )
            }
            return result == .revoked ? "revoked" : "not_supported"
        } catch {
            logger.warning("revocation failed", metadata: ["credential_id": "\(credential.id)", "reason": "\(error)"])
            return "failed"
        }
    }

    // MARK: Helpers

    func resolvedEndpoints(_ service: Service, templateValues: [String: String]) throws -> OAuthEndpoints {
        do {
            return try EndpointResolver.resolve(provider: service.provider, settings: service.integration.settings, templateValues: templateValues)
        } catch {
            throw ConnectFailure(
                heading: "\(service.name) could not be connected",
                message: Self.describe(error, name: service.name),
                status: .badRequest
            )
        }
    }

    func clientCredentials(_ service: Service) async throws -> OAuthClientCredentials {
        OAuthClientCredentials(
            clientID: service.integration.clientID ?? "",
            clientSecret: try await integrations.clientSecret(of: service.integration),
            method: service.provider.oauth?.clientAuth ?? .clientSecretBasic
        )
    }

    /// Plain words for a failure, naming the service; never a token, code or URL.
    static func describe(_ error: any Error, name: String) -> String {
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
