import Foundation
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyStorage
import Logging

/// The outbound side of one application: the OAuth client over its transport, the refresh coordinator (one per
/// process, so its single flight covers every caller) and the background refresher.
struct Gateway: Sendable {
    let oauth: OAuthClient
    let coordinator: RefreshCoordinator
    let refreshService: RefreshService
    let health: HealthMonitor
    let probeService: ProbeService
}

extension LatchkeyRuntime {
    func gateway(transport: any HTTPTransport) -> Gateway {
        let oauth = OAuthClient(transport: transport, clock: clock)
        let resolver = ProviderResolver(catalog: catalog, integrations: integrations)
        let logger = self.logger
        // Webhook events (credential.needs_reauth, integration.misconfigured) are written by the vault and the
        // integration store in the same transaction as the change they describe.
        let coordinator = RefreshCoordinator(
            vault: vault,
            resolver: resolver,
            oauth: oauth,
            clock: clock,
            configuration: configuration.refresh,
            logger: logger
        )
        let service = RefreshService(
            coordinator: coordinator,
            vault: vault,
            clock: clock,
            configuration: configuration.refreshService,
            logger: logger
        )
        let health = HealthMonitor(vault: vault, resolver: resolver, coordinator: coordinator, oauth: oauth, clock: clock)
        let tenants = self.tenants
        let probeService = ProbeService(monitor: health, directory: tenants.directory, clock: clock, logger: logger) {
            try await tenants.directory.tenants().map(\.id)
        }
        return Gateway(oauth: oauth, coordinator: coordinator, refreshService: service, health: health, probeService: probeService)
    }
}
