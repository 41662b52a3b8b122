import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// An administrator connecting the **shared** credential of an app's Connection (an org-wide bot token, DESIGN §2):
/// the same flow as a person's own connect (state bound to the browser and to the person who started it, PKCE, the
/// one callback), with the result stored under that Connection with no end user, issued by the Connection's app.
///
/// A session is a shared connect when its app is not the app of the person who started it: a person's own connect
/// always runs under the console app, a shared one under the external app that owns the Connection (whose OAuth
/// client is then used when it has one for the integration).
extension ConnectService {
    /// Starts connecting the shared credential of `connection` for the administrator `user` in browser `browserID`:
    /// a redirect to the provider. Only OAuth integrations without values to type first; other credentials are imported.
    public func startShared(user: User, connection: Connection, browserID: String) async throws -> Start {
        guard user.isAdmin, user.tenantID == connection.tenantID else {
            throw LatchkeyError(.forbidden, "Only an administrator of this tenant can connect a shared account.")
        }
        let service = try await service(key: connection.integrationKey, tenantID: user.tenantID)
        guard service.provider.authMode == .oauth2 else {
            throw LatchkeyError.invalidRequest(
                "\(service.name) does not sign in with OAuth. Import its shared key or token with the import form instead."
            )
        }
        guard ConnectForm(service: service, reconnect: nil).fields.isEmpty else {
            throw LatchkeyError.invalidRequest(
                "\(service.name) needs values typed in before signing in, which shared connects do not ask for. Import its token instead."
            )
        }
        let starter = try await endUser(for: user)
        guard connection.appID != starter.appID else {
            throw LatchkeyError.invalidRequest(
                "The console app's Connections take a shared credential by import only. Import the token, or use an app of your own."
            )
        }
        let url = try await authorizationURL(
            service: service,
            user: user,
            endUser: starter,
            appID: connection.appID,
            browserID: browserID,
            templateValues: [:],
            reconnect: nil
        )
        logger.info("shared connect started", metadata: ["connection_id": "\(connection.id)", "integration": "\(service.integration.key)"])
        return .redirect(url, service: service)
    }

    /// The Connection a callback's session connects the shared credential of; nil for a person's own connect.
    func sharedTarget(of session: ConnectSession, starter: EndUser, user: User) async throws -> Connection? {
        guard session.appID != starter.appID else { return nil }
        guard user.isAdmin else {
            throw ConnectFailure.badState("Only an administrator can connect a shared account. Nothing was connected.")
        }
        let connections = try await vault.directory.connections(tenantID: session.tenantID)
        guard let connection = connections.first(where: { $0.appID == session.appID && $0.integrationID == session.integrationID }) else {
            throw ConnectFailure.badState("The app's connection for this service no longer exists. Nothing was connected.")
        }
        return connection
    }

    /// The shared credentials of `connection`, oldest first.
    public func sharedCredentials(of connection: Connection) async throws -> [Credential] {
        let page = try await vault.list(tenantID: connection.tenantID, filter: CredentialFilter(connectionID: connection.id, limit: 200))
        return page.items.filter { $0.endUserID == nil }
    }

    /// Stores the tokens as the Connection's shared credential: the same account again (or the one shared credential
    /// it has) is updated in place, so connecting again replaces the bot token rather than adding a second one.
    func storeShared(
        tokens: TokenSet,
        identity: AccountIdentity?,
        session: ConnectSession,
        service: Service,
        connection: Connection,
        user: User,
        issuedBy: String
    ) async throws -> Completed {
        let secret = CredentialSecret(
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            tokenType: tokens.tokenType,
            idToken: tokens.idToken
        )
        let config = EndpointResolver.tokenResponseValues(provider: service.provider, tokens: tokens)
        let scopes = tokens.scopes ?? session.scopes
        let actor = AuditActor(id: "user:\(user.id)")
        let existing = try await sharedCredentials(of: connection)
        let same = identity.flatMap { identity in existing.first { $0.providerAccountID == identity.id } }
        if let target = same ?? (existing.count == 1 ? existing.first : nil) {
            let changes = reconnectChanges(tokens: tokens, secret: secret, scopes: scopes, identity: identity, config: config, issuedBy: issuedBy)
            let credential = try await vault.update(id: target.id, tenantID: user.tenantID, changes: changes, actor: actor)
            logger.info("shared credential reconnected", metadata: ["credential_id": "\(credential.id)", "connection_id": "\(connection.id)"])
            return Completed(credential: credential, serviceName: service.name, updated: true, sharedConnection: connection)
        }
        var new = CredentialVault.NewCredential(
            integration: service.integration.key,
            externalUserID: nil,
            connectionID: connection.id,
            type: .oauth2,
            secret: secret,
            expiresAt: tokens.expiresAt,
            scopes: scopes,
            label: identity.map { "Shared: \($0.display)" } ?? "Shared \(service.name) account",
            providerAccount: identity?.display,
            connectionConfig: config
        )
        new.providerAccountID = identity?.id
        new.issuedBy = issuedBy
        let credential = try await vault.create(new, tenantID: user.tenantID, actor: actor)
        logger.info("shared credential connected", metadata: ["credential_id": "\(credential.id)", "connection_id": "\(connection.id)"])
        return Completed(credential: credential, serviceName: service.name, updated: false, sharedConnection: connection)
    }
}
