import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// The provider callback: the state claimed once, the code exchanged, the identity read, the credential stored.
extension ConnectService {
    // MARK: Callback

    /// The outcome of a successful callback.
    public struct Completed: Sendable {
        public var credential: Credential
        public var serviceName: String
        public var updated: Bool
        /// The Connection whose shared credential this was (an administrator's *Connect shared account*); nil for a
        /// person's own credential.
        public var sharedConnection: Connection? = nil
    }

    /// Finishes a connect from the provider's callback. `query` is the raw query, in order and with duplicates:
    /// a parameter the provider must send once (RFC 6749 §3.1) that appears twice is refused, never read first-wins.
    public func complete(query: [(name: String, value: String)], browserID: String?, signedInUser: User?) async throws -> Completed {
        let parameters: CallbackParameters
        do {
            parameters = try CallbackParameters.parse(items: query)
        } catch {
            if case .malformedCallback(let reason) = error.kind, reason.hasSuffix("appears more than once") {
                try await abandonMalformed(query: query, browserID: browserID, reason: reason)
                throw ConnectFailure.malformedAnswer(reason)
            }
            throw ConnectFailure.badState("The provider sent us back without the details we need. Please start again from your connections.")
        }
        let state = parameters.state
        guard let state, state.count <= 512, let found = try await sessions.find(stateHash: stateHash(state)) else {
            throw ConnectFailure.badState("This sign-in link is not valid or was already used. Please start again from your connections.")
        }
        let session = found.session
        let now = clock.now
        guard browser.matches(browserID, stored: session.browserHash) else {
            throw ConnectFailure.badState(
                "This sign-in was started in another browser. For your safety it can only be finished where it began. Please start again here."
            )
        }
        // The state is single use and good for a limited time: the machine decides, the store fences the write.
        var machine = session.exchange
        let claim: ExchangeTransition
        switch machine.claim(now: now) {
        case .record(let transition):
            claim = transition
        case .expire(let transition):
            _ = try await sessions.apply(transition, id: session.id, credentialID: nil)
            throw ConnectFailure.badState("This sign-in took too long and expired. Please start again from your connections.")
        case .refuse:
            throw ConnectFailure.badState("This sign-in link was already used. Please start again from your connections.")
        }
        guard let user = signedInUser, user.tenantID == session.tenantID, case let starter = try await endUser(for: user),
            starter.id == session.endUserID
        else {
            throw ConnectFailure.badState("Please sign in as the person who started this connection, then start again.")
        }
        guard let integration = try await integrations.integrations.find(id: session.integrationID, tenantID: session.tenantID),
            let provider = catalog.provider(id: integration.provider)
        else {
            throw ConnectFailure.badState("This service is no longer available to connect.")
        }
        let service = Service(integration: integration, provider: provider)
        let shared = try await sharedTarget(of: session, starter: starter, user: user)
        guard try await sessions.apply(claim, id: session.id, credentialID: nil) else {
            throw ConnectFailure.badState("This sign-in link was already used. Please start again from your connections.")
        }
        do {
            let completed = try await exchange(
                parameters,
                session: session,
                sealedVerifier: found.sealedVerifier,
                service: service,
                user: user,
                shared: shared
            )
            try await record(machine.complete(now: clock.now), session: session, credentialID: completed.credential.id)
            return completed
        } catch var failure as ConnectFailure {
            try await record(machine.fail(reason: failure.heading, now: clock.now), session: session, credentialID: nil)
            // A shared connect is tried again from the app's page, not from the person's connections.
            failure.retryKey = failure.retryKey ?? (shared == nil ? integration.key : nil)
            failure.reconnect = session.reconnectCredentialID
            throw failure
        } catch {
            try await record(machine.fail(reason: "internal", now: clock.now), session: session, credentialID: nil)
            throw error
        }
    }

    /// Writes the end of an exchange this call claimed. Only this call can move the session on from `exchanging`, so
    /// a write that finds it moved is logged, not fatal: the outcome the person sees is already decided.
    private func record(_ decision: ExchangeStateMachine.Decision, session: ConnectSession, credentialID: String?) async throws {
        guard case .record(let transition) = decision else {
            logger.error("connect session transition refused", metadata: ["connect_session": "\(session.id)", "decision": "\(decision)"])
            return
        }
        if try await !sessions.apply(transition, id: session.id, credentialID: credentialID) {
            logger.warning("connect session had already moved on", metadata: ["connect_session": "\(session.id)", "to": "\(transition.to)"])
        }
    }

    func exchange(
        _ parameters: CallbackParameters,
        session: ConnectSession,
        sealedVerifier: Data?,
        service: Service,
        user: User,
        shared: Connection? = nil
    ) async throws -> Completed {
        let name = service.name
        let attempt = ExchangeAttempt(
            templateValues: session.templateValues,
            appID: session.appID,
            sealedVerifier: sealedVerifier,
            verifierContext: session.verifierContext,
            redirectURI: session.redirectURI,
            nonce: session.nonce
        )
        let exchanged: ProviderExchange
        do {
            exchanged = try await exchangeAtProvider(parameters, service: service, attempt: attempt)
        } catch let failure as ProviderExchangeFailure {
            switch failure {
            case .endpoints(let error):
                throw error
            case .issuer(let missing):
                let why =
                    missing
                    ? "The answer did not say which sign-in server sent it, though \(name) always does, so it was refused."
                    : "The answer came from a different sign-in server than the one we sent you to, so it was refused."
                throw ConnectFailure(heading: "\(name) was not connected", message: why + " Nothing was connected.")
            case .denied(let error):
                try await auditDenied(error, service: service, actor: AuditActor(id: "user:\(user.id)"), tenantID: user.tenantID)
                let message =
                    error == "access_denied"
                    ? "You did not allow access at \(name), so nothing was connected. You can try again whenever you like."
                    : "\(name) did not complete the sign-in (it answered “\(Self.printable(error))”). Nothing was connected; you can try again."
                throw ConnectFailure(heading: "\(name) was not connected", message: message)
            case .exchange(let error):
                throw ConnectFailure(heading: "\(name) was not connected", message: Self.describe(error, name: name), kind: .providerFailed)
            }
        }
        if let shared {
            return try await storeShared(
                tokens: exchanged.tokens,
                identity: exchanged.identity,
                session: session,
                service: service,
                connection: shared,
                user: user,
                issuedBy: exchanged.issuedBy
            )
        }
        return try await store(
            tokens: exchanged.tokens,
            identity: exchanged.identity,
            session: session,
            service: service,
            user: user,
            issuedBy: exchanged.issuedBy
        )
    }

    func store(
        tokens: TokenSet,
        identity: AccountIdentity?,
        session: ConnectSession,
        service: Service,
        user: User,
        issuedBy: String = "integration"
    ) async throws -> Completed {
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
            let changes = reconnectChanges(tokens: tokens, secret: secret, scopes: scopes, identity: identity, config: config, issuedBy: issuedBy)
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
        new.issuedBy = issuedBy
        let credential = try await vault.create(new, tenantID: user.tenantID, actor: actor)
        return Completed(credential: credential, serviceName: service.name, updated: false)
    }

    func matchingCredential(session: ConnectSession, identity: AccountIdentity?, user: User, key: String) async throws -> Credential? {
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

    /// A callback with a repeated parameter cannot be trusted, but its state (when it carries exactly one) still
    /// names a sign-in in progress: that sign-in is ended, as any finished callback ends it (the state is single-use
    /// either way, and only the browser that started it can end it), so that the valid answer an attacker may have
    /// raced cannot be used after the forged one.
    private func abandonMalformed(query: [(name: String, value: String)], browserID: String?, reason: String) async throws {
        logger.warning("callback refused: malformed", metadata: ["reason": "\(reason)"])
        let states = query.filter { $0.name == "state" }.map(\.value)
        guard states.count == 1, let state = states.first, !state.isEmpty, state.count <= 512,
            let found = try await sessions.find(stateHash: stateHash(state)), found.session.status == .pending,
            browser.matches(browserID, stored: found.session.browserHash)
        else { return }
        var machine = found.session.exchange
        let now = clock.now
        guard case .record(let claim) = machine.claim(now: now), try await sessions.apply(claim, id: found.session.id, credentialID: nil) else {
            return
        }
        try await record(machine.fail(reason: "malformed callback", now: now), session: found.session, credentialID: nil)
    }
}
