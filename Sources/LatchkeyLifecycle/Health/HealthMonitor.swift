public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
import LatchkeyProviders
public import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// The recent results of each integration's provider probe, kept in memory per instance.
public actor ProbeHistory {
    public struct Entry: Sendable, Equatable {
        public var result: ProbeResult
        public var at: Date
    }

    private var entries: [String: [Entry]] = [:]
    let keep: Int

    public init(keep: Int = 10) {
        self.keep = keep
    }

    public func record(_ result: ProbeResult, integrationID: String, at: Date) {
        var list = entries[integrationID] ?? []
        list.append(Entry(result: result, at: at))
        if list.count > keep { list.removeFirst(list.count - keep) }
        entries[integrationID] = list
    }

    /// Share of failed probes among the recent ones (a refused token does not count against the provider), or nil
    /// when never probed.
    public func failureRate(integrationID: String) -> Double? {
        guard let list = entries[integrationID], !list.isEmpty else { return nil }
        let failures = list.filter { if case .failing = $0.result { true } else { false } }.count
        return Double(failures) / Double(list.count)
    }

    public func latest(integrationID: String) -> Entry? { entries[integrationID]?.last }
}

/// The health of Connections (DESIGN §2), from their credentials, the circuit and the provider probe.
public struct HealthMonitor: Sendable {
    public let vault: CredentialVault
    public let resolver: ProviderResolver
    public let coordinator: RefreshCoordinator
    public let oauth: OAuthClient
    public let probes: ProbeHistory
    let clock: any LatchkeyClock

    public init(vault: CredentialVault, resolver: ProviderResolver, coordinator: RefreshCoordinator, oauth: OAuthClient, clock: any LatchkeyClock) {
        self.vault = vault
        self.resolver = resolver
        self.coordinator = coordinator
        self.oauth = oauth
        self.probes = ProbeHistory()
        self.clock = clock
    }

    /// A Connection's health now; an integration whose OAuth client the provider refused makes it unhealthy.
    public func health(of connection: Connection) async throws -> ConnectionHealth {
        let counts = try await vault.healthCounts(connectionID: connection.id)
        let circuit = try await coordinator.circuit.store.state(integrationID: connection.integrationID)
        let rate = await probes.failureRate(integrationID: connection.integrationID)
        var health = ConnectionHealth.evaluate(counts, circuitOpen: circuit.isOpen(now: clock.now), probeFailureRate: rate)
        let integration = try await resolver.integrations.integrations.find(id: connection.integrationID, tenantID: connection.tenantID)
        if integration?.status == .misconfigured {
            health.state = .unhealthy
            health.reasons.append("integration_misconfigured")
        }
        return health
    }

    /// Probes the provider of one Connection with one of its active credentials; nil when there is nothing to probe
    /// with (no credential, or the catalog names no probe).
    @discardableResult
    public func probe(_ connection: Connection) async throws -> ProbeResult? {
        guard let (credential, secret) = try await vault.probeCandidate(connectionID: connection.id), let token = secret.accessToken,
            let context = try? await resolver.context(for: credential), context.provider.probe != nil
        else { return nil }
        let result = await oauth.probe(provider: context.provider, endpoints: context.endpoints, accessToken: token)
        await probes.record(result, integrationID: connection.integrationID, at: clock.now)
        return result
    }
}

/// Probes every Connection's provider now and then ("is the API reachable?"), feeding Connection health.
public struct ProbeService: Service {
    let monitor: HealthMonitor
    let directory: DirectoryRepository
    let tenants: @Sendable () async throws -> [String]
    let interval: Duration
    let clock: any LatchkeyClock
    let logger: Logger

    public init(
        monitor: HealthMonitor,
        directory: DirectoryRepository,
        interval: Duration = .seconds(300),
        clock: any LatchkeyClock,
        logger: Logger,
        tenants: @escaping @Sendable () async throws -> [String]
    ) {
        self.monitor = monitor
        self.directory = directory
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.tenants = tenants
    }

    /// Runs until graceful shutdown, which ends it cleanly.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { return }
                do {
                    try await runOnce()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("provider probes failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                }
            }
        }
    }

    /// Probes every Connection of every tenant once.
    public func runOnce() async throws {
        for tenantID in try await tenants() {
            for connection in try await directory.connections(tenantID: tenantID) {
                if let result = try await monitor.probe(connection), case .failing(let reason) = result {
                    logger.warning("provider probe failed", metadata: ["integration": "\(connection.integrationKey)", "reason": "\(reason)"])
                }
            }
        }
    }
}
