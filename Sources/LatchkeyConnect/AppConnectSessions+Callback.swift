public import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// The end of an app's connect session: the provider's callback (or a stored API key), the credential under the
/// app's Connection for the end user, and where the browser goes next.
extension AppConnectSessions {
    /// How an attempt ended, for the page or redirect that follows.
    public struct Finished: Sendable {
        public var session: AppConnectSession
        public var app: App
        public var serviceName: String
        /// `success`, or nil with `error` set.
        public var succeeded: Bool
        /// A short code (`access_denied`, `provider_error`, `expired`, …) when it did not succeed.
        public var error: String?
        /// Plain words for the person.
        public var message: String
        /// Set when the person may try again on the same session (a denial at the provider).
        public var retryToken: String?

        /// `redirectUrl` with `session_id`, `status` and `error` added; nil without a redirect URL, or while the
        /// person may still try again.
        public var redirect: URL? {
            guard retryToken == nil, let text = session.redirectURL, var components = URLComponents(string: text) else { return nil }
            var items = components.queryItems ?? []
            items.append(URLQueryItem(name: "session_id", value: session.id))
            items.append(URLQueryItem(name: "status", value: succeeded ? "success" : "failed"))
            if let error, !succeeded { items.append(URLQueryItem(name: "error", value: error)) }
            components.queryItems = items
            return components.url
        }

        /// `redirectUrl` with `status=failed&error=access_denied`, for a person who gives up after a denial.
        public var giveUpRedirect: URL? {
            guard let text = session.redirectURL, var components = URLComponents(string: text) else { return nil }
            components.queryItems =
                (components.queryItems ?? []) + [
                    URLQueryItem(name: "session_id", value: session.id), URLQueryItem(name: "status", value: "failed"),
                    URLQueryItem(name: "error", value: error ?? "access_denied"),
                ]
            return components.url
        }
    }

    /// Finishes an app's session from the provider's callback; nil when the callback's `state` is not an app
    /// session's (the console's connect flow handles it).
    public func complete(query: [(name: String, value: String)], browserID: String?) async throws -> Finished? {
        let states = query.filter { $0.name == "state" }.map(\.value)
        guard states.count == 1, let state = states.first, !state.isEmpty, state.count <= 512,
            let found = try await store.find(stateHash: connect.stateHash(state))
        else { return nil }
        var session = found.session
        guard connect.browser.matches(browserID, stored: session.browserHash ?? "") else { throw Unusable.otherBrowser }
        guard let app = try await apps.apps.find(id: session.appID, tenantID: session.tenantID),
            let integration = try await connect.integrations.integrations.find(id: session.integrationID, tenantID: session.tenantID),
            let provider = connect.catalog.provider(id: integration.provider)
        else { throw Unusable.unknown }
        let service = ConnectService.Service(integration: integration, provider: provider)
        let now = clock.now
        var machine = session.exchange
        switch machine.claim(now: now) {
        case .record(let claim):
            guard try await store.apply(claim, id: session.id, credentialID: nil) else { throw Unusable.used }
        case .expire(let transition):
            // Audited by the one request that expired it (`move`).
            _ = try await move(transition, session: session, credentialID: nil, integrationKey: service.integration.key)
            session.status = .expired
            return Finished(
                session: session,
                app: app,
                serviceName: service.name,
                succeeded: false,
                error: "expired",
                message: "This connect link expired before it was finished. Please go back to the app and start again.",
                retryToken: nil
            )
        case .refuse:
            throw Unusable.used
        }
        do {
            let credential = try await exchange(query: query, session: session, sealedVerifier: found.sealedVerifier, service: service)
            return try await finish(&machine, session: session, app: app, service: service, credential: credential)
        } catch let failure as AttemptFailure {
            let decision = machine.fail(reason: failure.code, retryable: failure.retryable, now: clock.now)
            guard case .record(let transition) = decision,
                try await move(transition, session: session, credentialID: nil, integrationKey: service.integration.key)
            else { throw Unusable.used }
            session.status = transition.to
            session.error = failure.code
            var retryToken: String?
            if transition.to == .pending {
                retryToken = String(decoding: try connect.keyring.open(found.sealedToken, context: session.tokenContext), as: UTF8.self)
            } else {
                try await auditEnd(session, service: service, error: failure.code)
            }
            return Finished(
                session: session,
                app: app,
                serviceName: service.name,
                succeeded: false,
                error: failure.code,
                message: failure.message,
                retryToken: retryToken
            )
        } catch {
            try await failClaimed(&machine, session: session, service: service)
            throw error
        }
    }

    /// Ends a claimed session as failed (`internal_error`) when storing its credential failed for a reason of ours (a
    /// database error), instead of leaving it claimed until it expires; the app hears it and can start again.
    func failClaimed(_ machine: inout ExchangeStateMachine, session: AppConnectSession, service: ConnectService.Service) async throws {
        guard case .record(let transition) = machine.fail(reason: "internal_error", now: clock.now),
            try await move(transition, session: session, credentialID: nil, integrationKey: service.integration.key)
        else { return }
        try await auditEnd(session, service: service, error: "internal_error")
    }

    /// Why an attempt did not give a credential: a short code for the app, plain words for the person.
    struct AttemptFailure: Error {
        var code: String
        var message: String
        /// A denial at the provider: the session stays open for another attempt.
        var retryable = false
    }

    private func exchange(
        query: [(name: String, value: String)],
        session: AppConnectSession,
        sealedVerifier: Data?,
        service: ConnectService.Service
    ) async throws -> Credential {
        let name = service.name
        let parameters: CallbackParameters
        do {
            parameters = try CallbackParameters.parse(items: query)
        } catch {
            throw AttemptFailure(code: "invalid_callback", message: "\(name) sent you back without the details we need, so nothing was connected.")
        }
        let attempt = ConnectService.ExchangeAttempt(
            templateValues: session.templateValues,
            appID: session.appID,
            sealedVerifier: sealedVerifier,
            verifierContext: session.verifierContext,
            redirectURI: connect.callbackURL,
            nonce: session.nonce
        )
        let exchanged: ConnectService.ProviderExchange
        do {
            exchanged = try await connect.exchangeAtProvider(parameters, service: service, attempt: attempt)
        } catch let failure as ConnectService.ProviderExchangeFailure {
            switch failure {
            case .endpoints, .issuer:
                throw AttemptFailure(
                    code: "invalid_issuer",
                    message: "The answer did not come from the sign-in server we sent you to, so it was refused and nothing was connected."
                )
            case .denied(let error):
                try await connect.auditDenied(
                    error,
                    service: service,
                    actor: AuditActor(id: "app:\(session.appID)"),
                    tenantID: session.tenantID,
                    details: ["app_id": session.appID, "end_user_id": session.endUserID, "connect_session": session.id]
                )
                throw AttemptFailure(
                    code: error == "access_denied" ? "access_denied" : ConnectService.printable(error),
                    message: error == "access_denied"
                        ? "You did not allow access at \(name), so nothing was connected. You can try again."
                        : "\(name) did not complete the sign-in, so nothing was connected. You can try again.",
                    retryable: true
                )
            case .exchange(let error):
                connect.logger.warning("app connect code exchange failed", metadata: ["connect_session": "\(session.id)"])
                throw AttemptFailure(code: "provider_error", message: ConnectService.describe(error, name: name))
            }
        }
        let tokens = exchanged.tokens
        let identity = exchanged.identity
        let issuedBy = exchanged.issuedBy
        let secret = CredentialSecret(
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            tokenType: tokens.tokenType,
            idToken: tokens.idToken
        )
        let config = session.templateValues.merging(EndpointResolver.tokenResponseValues(provider: service.provider, tokens: tokens)) { _, new in new
        }
        return try await storeCredential(
            session: session,
            service: service,
            stored: .init(
                type: .oauth2,
                secret: secret,
                scopes: tokens.scopes ?? session.scopes,
                expiresAt: tokens.expiresAt,
                config: config,
                issuedBy: issuedBy
            ),
            identity: identity
        )
    }
}
