public import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
public import LatchkeyStorage
import Logging

/// Apps' connect sessions (DESIGN §4): an app asks for one for its end user and an integration, sends the person to
/// the hosted page `/connect/{token}`, and reads the outcome. Every move of a session is decided by
/// ``ExchangeStateMachine`` with ``ExchangeStateMachine/RetryPolicy/retryWhilePending``: a denial at the provider
/// leaves it usable for a new attempt until it completes or its 30 minutes end.
public struct AppConnectSessions: Sendable {
    let connect: ConnectService
    public let store: AppConnectSessionRepository
    let apps: AppService
    let audit: AuditLog
    /// The server's public URL without a trailing slash; `connectUrl` is absolute on it.
    let publicURL: String

    public init(connect: ConnectService, store: AppConnectSessionRepository, apps: AppService, audit: AuditLog, publicURL: String) {
        self.connect = connect
        self.store = store
        self.apps = apps
        self.audit = audit
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    var clock: any LatchkeyClock { connect.clock }

    /// The origin (`scheme://host[:port]`) of the server's public URL, which `/connect.js` accepts messages from.
    public var publicOrigin: String {
        guard let components = URLComponents(string: publicURL), let scheme = components.scheme?.lowercased(), let host = components.host
        else { return publicURL }
        return "\(scheme)://\(host.lowercased())\(components.port.map { ":\($0)" } ?? "")"
    }

    /// The injected clock's now, for reporting a session's status.
    public var now: Date { clock.now }

    /// What an app asks for.
    public struct NewSession: Sendable {
        public var externalUserID: String
        public var integration: String
        public var redirectURL: String?
        public var displayName: String?
        public var email: String?
        public var reconnectCredentialID: String?

        public init(
            externalUserID: String,
            integration: String,
            redirectURL: String? = nil,
            displayName: String? = nil,
            email: String? = nil,
            reconnectCredentialID: String? = nil
        ) {
            self.externalUserID = externalUserID
            self.integration = integration
            self.redirectURL = redirectURL
            self.displayName = displayName
            self.email = email
            self.reconnectCredentialID = reconnectCredentialID
        }
    }

    /// A new session with its token, shown only here.
    public struct Created: Sendable {
        public var session: AppConnectSession
        public var token: String
        public var connectURL: String
    }

    /// Creates a session for `new.externalUserID` (found or created, with the name and email given) on the app's
    /// Connection for the integration (created on first use). Refuses, changing nothing, an integration that is
    /// unknown or off, a redirect URL outside the app's allowed origins and a reconnect of a credential that is not
    /// this person's on this integration.
    public func create(_ new: NewSession, app: App, actor: AuditActor) async throws -> Created {
        let service: ConnectService.Service
        do {
            service = try await connect.service(key: new.integration, tenantID: app.tenantID)
        } catch let error as LatchkeyError where error.code == .notFound {
            throw LatchkeyError.invalidField("integration", "is not an enabled integration of this server (\(String(new.integration.prefix(64))))")
        }
        if service.provider.authMode == .oauth2ClientCredentials {
            throw LatchkeyError.invalidField(
                "integration",
                "connects with the server's own client credentials; there is nothing for a person to connect"
            )
        }
        let redirectURL = try new.redirectURL.map { try Self.checkedRedirect($0, app: app) }
        if let reconnect = new.reconnectCredentialID {
            // Checked before anything is created: a reconnect names a credential this person already has.
            let known = try await apps.endUsers.find(appID: app.id, externalID: new.externalUserID, tenantID: app.tenantID)
            _ = try await reconnectTarget(reconnect, endUser: known, integrationKey: service.integration.key, tenantID: app.tenantID, actor: actor)
        }
        let now = clock.now
        let endUser = try await apps.findOrCreateEndUser(app: app, externalID: new.externalUserID, displayName: new.displayName, email: new.email)
        let connection = try await connect.vault.database.write { db in
            try await connect.vault.directory.findOrCreateConnection(app: app, integration: service.integration, now: now, on: db)
        }
        let token = SecureRandom.token(prefix: AppConnectSession.tokenPrefix)
        let session = AppConnectSession(
            id: NewID.make(),
            tenantID: app.tenantID,
            appID: app.id,
            integrationID: service.integration.id,
            endUserID: endUser.id,
            connectionID: connection.id,
            redirectURL: redirectURL,
            reconnectCredentialID: new.reconnectCredentialID?.lowercased(),
            createdAt: now
        )
        // Sessions are kept a day past their end, for apps that read the outcome late.
        try await store.purge(before: now.addingTimeInterval(-24 * 3600))
        try await store.insert(
            session,
            tokenHash: tokenHash(token),
            sealedToken: try connect.keyring.seal(Data(token.utf8), context: session.tokenContext)
        )
        var details = ["app_id": app.id, "end_user_id": endUser.id, "connection_id": connection.id]
        if let reconnect = session.reconnectCredentialID { details["reconnect_credential_id"] = reconnect }
        _ = try await audit.append(
            AuditRecord(
                actor: actor,
                action: "connect_session.created",
                target: session.id,
                service: service.integration.key,
                details: details,
                person: endUser.id
            ),
            tenantID: app.tenantID
        )
        connect.logger.info("connect session created", metadata: ["connect_session": "\(session.id)", "integration": "\(service.integration.key)"])
        return Created(session: session, token: token, connectURL: "\(publicURL)/connect/\(token)")
    }

    /// The session `id` of `app`; not found for another app's, another tenant's or an unknown id (the probe of
    /// another app's is audited). A pending session found past its end is expired now, which tells the app's webhook.
    public func session(id: String, app: App, actor: AuditActor) async throws -> AppConnectSession {
        let id = id.lowercased()
        if UUID(uuidString: id) != nil, var session = try await store.find(id: id, appID: app.id, tenantID: app.tenantID) {
            var machine = session.exchange
            if session.status == .pending, case .expire(let transition) = machine.claim(now: clock.now),
                try await move(transition, session: session, credentialID: nil)
            {
                session.status = .expired
                session.error = transition.reason
                session.completedAt = transition.at
            }
            return session
        }
        try await apps.recordDenied(app: app, operation: .connect, integration: nil, actor: actor)
        throw LatchkeyError.notFound("connect session")
    }

    /// The integration key of a stored session.
    public func integrationKey(of session: AppConnectSession) async throws -> String? {
        try await connect.integrations.integrations.find(id: session.integrationID, tenantID: session.tenantID)?.key
    }

    func tokenHash(_ token: String) -> String { connect.keyring.mac(token, purpose: "connect-session-token") }

    /// The credential to re-authorize: this end user's (of this app), for this integration; not found otherwise.
    func reconnectTarget(_ id: String, endUser: EndUser?, integrationKey: String, tenantID: String, actor: AuditActor) async throws -> Credential {
        let refusal = LatchkeyError(.notFound, "reconnectCredentialId names no credential of this end user for this integration.")
        guard UUID(uuidString: id) != nil, let endUser else { throw refusal }
        let credential: Credential
        do {
            credential = try await connect.vault.get(id: id.lowercased(), tenantID: tenantID, actor: actor)
        } catch let error as LatchkeyError where error.code == .notFound {
            throw refusal
        }
        guard credential.endUserID == endUser.id, credential.integrationKey == integrationKey else { throw refusal }
        return credential
    }

    /// `text` if it is an absolute http(s) URL without user info or fragment on one of the app's allowed origins.
    static func checkedRedirect(_ text: String, app: App) throws -> String {
        func refuse(_ why: String) -> LatchkeyError { LatchkeyError.invalidField("redirectUrl", why) }
        guard text.count <= 2048, !text.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\\" }),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased()
        else { throw refuse("must be an absolute URL of at most 2048 characters") }
        guard scheme == "https" || scheme == "http" else { throw refuse("must start with https:// or http://") }
        guard components.user == nil, components.password == nil, let host = components.host, !host.isEmpty,
            !(components.percentEncodedHost ?? "").contains("@")
        else { throw refuse("must name a host and contain no user name or password") }
        guard components.fragment == nil, !text.contains("#") else { throw refuse("must not contain a #fragment") }
        let port = components.port.map { ":\($0)" } ?? ""
        let origin = "\(scheme)://\(host.lowercased())\(port)"
        guard app.allowedRedirectOrigins.contains(origin) else {
            throw refuse("is not on one of the app's allowed redirect origins; an administrator can add \(origin) to the app")
        }
        return text
    }
}
