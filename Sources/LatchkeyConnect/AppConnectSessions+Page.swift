public import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// The hosted page `/connect/{token}`: the session opened in the browser it is bound to, and each provider attempt.
extension AppConnectSessions {
    /// Why the page cannot be used, in plain words for the person holding the link.
    public struct Unusable: Error, Sendable, Equatable {
        public var heading: String
        public var message: String

        public init(heading: String, message: String) {
            self.heading = heading
            self.message = message
        }

        static let unknown = Unusable(
            heading: "This link cannot be used",
            message: "This connect link is not valid. Please go back to the app that sent you and start again."
        )
        static let expired = Unusable(
            heading: "This link has expired",
            message: "Connect links are good for 30 minutes. Please go back to the app that sent you and start again."
        )
        static let used = Unusable(
            heading: "This link was already used",
            message: "This connect link has already been used and cannot be used again. Please go back to the app that sent you."
        )
        static let otherBrowser = Unusable(
            heading: "This link was opened in another browser",
            message:
                "For your safety a connect link works only in the browser that first opened it. Please open it there, or go back to the app and start again."
        )
    }

    /// An open session with what the page shows.
    public struct Opened: Sendable {
        public var session: AppConnectSession
        public var app: App
        public var service: ConnectService.Service
        /// The fields to type first (an API key, a shop), empty for a plain OAuth connect.
        public var form: ConnectForm
    }

    /// Opens the session of `token` in `browserID`: binds it to that browser the first time; refuses an unknown,
    /// finished or expired token and another browser.
    public func open(token: String, browserID: String) async throws -> Opened {
        guard token.hasPrefix(AppConnectSession.tokenPrefix), token.count <= 128, var session = try await store.find(tokenHash: tokenHash(token))
        else { throw Unusable.unknown }
        let binding = connect.browser.binding(of: browserID)
        if let bound = session.browserHash {
            guard connect.browser.matches(browserID, stored: bound) else { throw Unusable.otherBrowser }
        } else if try await store.bind(id: session.id, browserHash: binding) {
            session.browserHash = binding
        } else {
            // Another request bound it first: only that browser may go on.
            throw Unusable.otherBrowser
        }
        switch session.status {
        case .completed, .failed: throw Unusable.used
        case .expired: throw Unusable.expired
        case .pending, .exchanging:
            if clock.now >= session.expiresAt {
                var machine = session.exchange
                if case .expire(let transition) = machine.beginAttempt(now: clock.now, deadline: clock.now) {
                    _ = try await move(transition, session: session, credentialID: nil)
                }
                throw Unusable.expired
            }
        }
        guard let app = try await apps.apps.find(id: session.appID, tenantID: session.tenantID), app.status == .active,
            let integration = try await connect.integrations.integrations.find(id: session.integrationID, tenantID: session.tenantID),
            integration.enabled, let provider = connect.catalog.provider(id: integration.provider)
        else {
            throw Unusable(
                heading: "This service is not available",
                message: "This connection is no longer offered. Please go back to the app that sent you."
            )
        }
        let service = ConnectService.Service(integration: integration, provider: provider)
        return Opened(session: session, app: app, service: service, form: ConnectForm(service: service, reconnect: nil))
    }

    /// What the page does after *Connect*.
    public enum Started: Sendable {
        /// Off to the provider.
        case redirect(URL)
        /// The form must be filled in (again, with the problem).
        case form(String?)
        /// A static credential was stored: the session is complete.
        case finished(Finished)
    }

    /// *Connect*: a new provider attempt (a new `state` and PKCE verifier) for an OAuth service, or the typed API key
    /// or account details stored for the others.
    public func start(_ opened: Opened, form: ConnectFormValues?) async throws -> Started {
        let service = opened.service
        let spec = opened.form
        var templateValues: [String: String] = [:]
        if !spec.fields.isEmpty {
            guard let form, spec.isFilled(form) else { return .form(form == nil ? nil : "Please fill in every field.") }
            templateValues = spec.templateValues(form)
        }
        switch service.provider.authMode {
        case .oauth2:
            return .redirect(try await beginAttempt(opened, templateValues: templateValues))
        case .apiKey, .basic:
            guard let form else { return .form(nil) }
            return try await storeStatic(opened, form: form)
        case .oauth2ClientCredentials:
            throw Unusable(heading: "Nothing to connect", message: "\(service.name) is connected by the administrator, not per person.")
        }
    }

    private func beginAttempt(_ opened: Opened, templateValues: [String: String]) async throws -> URL {
        let service = opened.service
        // The app's own OAuth client for the integration when it has one, else the integration's.
        let clientID = try await connect.clientCredentials(service, appID: opened.session.appID).client.clientID
        guard let oauthSettings = service.provider.oauth, !clientID.isEmpty else {
            throw Unusable(
                heading: "\(service.name) is not set up yet",
                message: "\(service.name) has no OAuth client yet. Please tell the app that sent you."
            )
        }
        let endpoints = try connect.resolvedEndpoints(service, templateValues: templateValues)
        let scopes = service.integration.scopes.isEmpty ? oauthSettings.defaultScopes : service.integration.scopes
        let state = SecureRandom.token()
        let verifier = oauthSettings.pkce ? PKCE.makeVerifier() : nil
        let nonce = scopes.contains("openid") ? SecureRandom.token(byteCount: 16) : nil
        let now = clock.now
        var machine = opened.session.exchange
        switch machine.beginAttempt(now: now, deadline: now.addingTimeInterval(AppConnectSession.attemptLifetime)) {
        case .record(let transition):
            let sealed = try verifier.map { try connect.keyring.seal(Data($0.utf8), context: opened.session.verifierContext) }
            let attempt = AppConnectSessionRepository.Attempt(
                stateHash: connect.stateHash(state),
                sealedVerifier: sealed,
                nonce: nonce,
                scopes: scopes,
                templateValues: templateValues
            )
            guard try await store.beginAttempt(transition, id: opened.session.id, attempt: attempt) else { throw Unusable.used }
        case .expire(let transition):
            _ = try await move(transition, session: opened.session, credentialID: nil, integrationKey: service.integration.key)
            throw Unusable.expired
        case .refuse:
            throw Unusable.used
        }
        let request = AuthorizationRequest(
            provider: service.provider,
            endpoints: endpoints,
            clientID: clientID,
            redirectURI: connect.callbackURL,
            scopes: scopes,
            state: state,
            codeChallenge: verifier.map(PKCE.challenge(for:)),
            nonce: nonce
        )
        connect.logger.info("app connect attempt started", metadata: ["connect_session": "\(opened.session.id)"])
        return request.url
    }
}
