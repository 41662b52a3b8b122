import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders
public import LatchkeyStorage

/// Everything needed to talk to a credential's provider: the integration, its catalog entry, the resolved
/// endpoints (templates filled from the credential), the OAuth client that issued it, and the refresh policy.
public struct ProviderContext: Sendable {
    public var integration: Integration
    public var provider: Provider
    public var endpoints: OAuthEndpoints
    public var client: OAuthClientCredentials
    public var policy: RefreshPolicy

    /// The name people know the service by.
    public var name: String { integration.displayName ?? provider.displayName }
}

/// Looks up a credential's provider context.
public struct ProviderResolver: Sendable {
    public let catalog: ProviderCatalog
    public let integrations: IntegrationStore

    public init(catalog: ProviderCatalog, integrations: IntegrationStore) {
        self.catalog = catalog
        self.integrations = integrations
    }

    /// The refresh policy a provider asks for (buffer before expiry, idle expiry of refresh tokens).
    public static func policy(for provider: Provider?) -> RefreshPolicy {
        RefreshPolicy(
            buffer: TimeInterval(provider?.oauth?.refreshBufferSeconds ?? 300),
            idleExpiry: provider?.oauth?.refreshTokenIdleExpirySeconds.map(TimeInterval.init)
        )
    }

    /// The integration and catalog entry of a credential, if both still exist.
    public func integration(of credential: Credential) async throws -> (Integration, Provider)? {
        guard let integration = try await integrations.integrations.find(key: credential.integrationKey, tenantID: credential.tenantID),
            let provider = catalog.provider(id: integration.provider)
        else { return nil }
        return (integration, provider)
    }

    /// As ``integration(of:)`` for a call relayed to the provider: kept a few seconds, and served in degraded mode
    /// (`IntegrationStore.forCall`). Refreshes read the integration fresh (its OAuth client may just have changed).
    public func integrationForCall(of credential: Credential) async throws -> (Integration, Provider)? {
        guard let integration = try await integrations.forCall(key: credential.integrationKey, tenantID: credential.tenantID),
            let provider = catalog.provider(id: integration.provider)
        else { return nil }
        return (integration, provider)
    }

    /// The full context, or an error a person can act on.
    public func context(for credential: Credential) async throws -> ProviderContext {
        guard let (integration, provider) = try await integration(of: credential) else {
            throw LatchkeyError(.notConnected, "The service \(credential.integrationKey) is no longer set up on this server.")
        }
        // The client that issued the credential: the app's own (named by `issued_by`) when it has one, else the integration's.
        let chosen = provider.oauth == nil ? nil : try await integrations.client(issuedBy: credential.issuedBy, integration: integration)
        guard let chosen else {
            // Retrying will not help until an administrator sets the client: a conflict with the integration's state.
            throw LatchkeyError(
                .conflict,
                "\(integration.displayName ?? provider.displayName) has no OAuth client configured, so its tokens cannot be refreshed. "
                    + "Set its clientId and clientSecret (PATCH /api/v1/integrations/\(integration.key)), then try again."
            )
        }
        let endpoints: OAuthEndpoints
        do {
            endpoints = try EndpointResolver.resolve(provider: provider, settings: integration.settings, templateValues: credential.connectionConfig)
        } catch {
            throw LatchkeyError(.unavailable, error.message(providerName: integration.displayName ?? provider.displayName))
        }
        return ProviderContext(
            integration: integration,
            provider: provider,
            endpoints: endpoints,
            client: OAuthClientCredentials(
                clientID: chosen.clientID,
                clientSecret: chosen.clientSecret,
                method: provider.oauth?.clientAuth ?? .clientSecretBasic
            ),
            policy: Self.policy(for: provider)
        )
    }
}
