import Foundation
public import LatchkeyCore
public import LatchkeyGateway
import LatchkeyLifecycle
public import LatchkeyOAuthClient
import LatchkeyStorage

extension LatchkeyRuntime {
    /// Where reference-data sync keeps its settings, jobs and sealed records; runs are told to webhooks
    /// (`sync.completed`, `sync.failed`).
    public var syncStore: any SyncStore { SQLSyncStore(database: database, keyring: keyring, webhooks: webhooks) }

    /// The sync service's pacing as `latchkey serve` is configured (`LATCHKEY_SYNC_POLL_MS`, `LATCHKEY_SYNC_LEASE_SECONDS`).
    public var syncConfiguration: SyncService.Configuration {
        var sync = SyncService.Configuration()
        sync.pollInterval = .milliseconds(self.configuration.syncPollMilliseconds)
        sync.leaseLength = TimeInterval(self.configuration.syncLeaseSeconds)
        return sync
    }

    /// The reference-data sync over `outbound`'s resolver and rate gate (the same limiter as interactive calls) and
    /// `transport`.
    public func syncService(
        outbound: OutboundServices,
        transport: any HTTPTransport,
        pacer: SyncPacer = SyncPacer(),
        configuration: SyncService.Configuration? = nil
    ) -> SyncService {
        let proxy = ProxyService(
            resolver: outbound.resolver,
            providers: ProviderResolver(catalog: catalog, integrations: integrations),
            transport: transport,
            gate: outbound.gate
        )
        return SyncService(
            store: syncStore,
            catalog: catalog,
            proxy: proxy,
            pacer: pacer,
            clock: clock,
            configuration: configuration ?? syncConfiguration,
            publicURL: self.configuration.effectivePublicURL,
            logger: logger
        )
    }
}
