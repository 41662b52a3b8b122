import Foundation
public import LatchkeyCore

/// An OAuth client chosen for a credential: the app's own when it has one for the integration, else the integration's.
public struct ChosenOAuthClient: Sendable {
    public var clientID: String
    public var clientSecret: String?
    /// Scopes the client asks for; empty means the integration's.
    public var scopes: [String]
    /// What the credentials this client issues record in `issued_by`.
    public var issuedBy: String
}

extension IntegrationStore {
    /// The app's own OAuth client for `integration`, opened, if the app has one.
    public func appClient(appID: String, integration: Integration) async throws -> ChosenOAuthClient? {
        guard
            let (config, sealed) = try await AppConfigRepository(database: database).find(
                appID: appID,
                integrationID: integration.id,
                tenantID: integration.tenantID
            )
        else { return nil }
        let secret = try sealed.map { String(decoding: try keyring.open($0, context: config.clientSecretContext), as: UTF8.self) }
        return ChosenOAuthClient(
            clientID: config.clientID,
            clientSecret: secret,
            scopes: config.scopes,
            issuedBy: AppIntegrationConfig.issuer(appID: appID)
        )
    }

    /// The client that issued (or will issue) a credential: the app's named by `issuedBy` when it still has one,
    /// else the integration's; nil when neither has a client id.
    public func client(issuedBy: String?, integration: Integration) async throws -> ChosenOAuthClient? {
        if let appID = AppIntegrationConfig.appID(issuedBy: issuedBy), let client = try await appClient(appID: appID, integration: integration) {
            return client
        }
        guard let clientID = integration.clientID, !clientID.isEmpty else { return nil }
        return ChosenOAuthClient(clientID: clientID, clientSecret: try await clientSecret(of: integration), scopes: [], issuedBy: "integration")
    }
}
