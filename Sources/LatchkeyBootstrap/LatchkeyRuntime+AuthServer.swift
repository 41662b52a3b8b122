import Foundation
public import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyStorage

extension LatchkeyRuntime {
    /// The OAuth authorization server of the MCP endpoint, for the default tenant's people, at the public URL.
    /// `documents` resolves Client ID Metadata Documents (an URL `client_id` is unknown without it).
    public func authorizationServer(documents: (any ClientMetadataDocumentSource)? = nil) -> AuthorizationServer {
        var settings = AuthServerSettings(publicURL: configuration.effectivePublicURL)
        settings.allowPrivateNetwork = configuration.allowPrivateNetwork
        settings.accessTokenLifetime = TimeInterval(configuration.oauthAccessTokenLifetime)
        return AuthorizationServer(
            settings: settings,
            tenantID: defaultTenant.id,
            database: database,
            keyring: keyring,
            audit: audit,
            clock: clock,
            logger: logger,
            documents: documents,
            auditWriter: vault.auditWriter
        )
    }
}
