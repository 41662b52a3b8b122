import Foundation
public import LatchkeyConnect
import LatchkeyCore
public import LatchkeyGateway
public import LatchkeyLifecycle
public import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Logging

/// The outbound side of one process: the OAuth client over its transport, the refresh coordinator (one per
/// process, so its single flight covers every caller), credential resolution, health, and the background services
/// that refresh, probe and deliver webhooks.
public struct OutboundServices: Sendable {
    public let oauth: OAuthClient
    public let coordinator: RefreshCoordinator
    public let resolver: CredentialResolver
    public let refreshService: RefreshService
    public let health: HealthMonitor
    public let probeService: ProbeService
    public let webhookDelivery: WebhookDeliveryService
    /// The connect flow (start, callback, forms, disconnect) of the web console.
    public let connect: ConnectService
    /// Fair rate limits per Connection and the shared circuit, in front of every provider call.
    public let gate: ProviderCallGate
    /// Leases the shared rate budget ahead and refreshes the near-limit gauge.
    public let rateBudgetRefill: RateBudgetRefillService
}

extension LatchkeyRuntime {
    /// The outbound services over `transport` (AsyncHTTPClient in the server, a fake network in tests).
    public func outboundServices(transport: any HTTPTransport) -> OutboundServices {
        let oauth = OAuthClient(transport: transport, clock: clock)
        let resolver = ProviderResolver(catalog: catalog, integrations: integrations)
        let logger = self.logger
        // Webhook events (credential.needs_reauth, integration.misconfigured) are written by the vault and the
        // integration store in the same transaction as the change they describe.
        // One circuit per integration for refresh and the gateway alike (one cache per process).
        let circuit = CircuitBreaker(store: CircuitRepository(database: database), policy: configuration.refresh.circuit, clock: clock)
        let coordinator = RefreshCoordinator(
            vault: vault,
            resolver: resolver,
            oauth: oauth,
            clock: clock,
            random: random,
            circuit: circuit,
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
        let limits = ConnectionRateLimitRepository(database: database)
        let gate = ProviderCallGate(
            store: SQLRateBudgetLeaseStore(database: database),
            circuit: circuit,
            clock: clock,
            overrides: { id in
                try await limits.find(connectionID: id).map { RateLimitDefault(budget: $0.budget, windowSeconds: $0.windowSeconds) }
            },
            logger: logger
        )
        return OutboundServices(
            oauth: oauth,
            coordinator: coordinator,
            resolver: CredentialResolver(vault: vault, coordinator: coordinator, publicURL: configuration.effectivePublicURL),
            refreshService: service,
            health: health,
            probeService: probeService,
            webhookDelivery: webhookDeliveryService(transport: transport),
            connect: ConnectService(
                catalog: catalog,
                integrations: integrations,
                vault: vault,
                sessions: connectSessions,
                // The same derivation as the web sessions' browser binding, under its own purpose.
                browser: ConnectBrowserBinding { [keyring] in keyring.mac($0, purpose: "connect-browser") },
                keyring: keyring,
                oauth: oauth,
                callbackURL: configuration.callbackURL,
                clock: clock,
                logger: logger
            ),
            gate: gate,
            rateBudgetRefill: RateBudgetRefillService(gate: gate, clock: clock)
        )
    }
}
