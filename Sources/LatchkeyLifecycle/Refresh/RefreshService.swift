public import Foundation
public import LatchkeyCore
public import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// Proactive refresh (DESIGN §4): claims credentials whose refresh is due (leased in bulk, `FOR UPDATE SKIP
/// LOCKED` on PostgreSQL) and refreshes them before they expire; marks credentials that nothing can refresh as
/// expired, and deletes expired ones after 30 days. Due times are spread when credentials are written, so a burst
/// of tokens expiring together becomes a steady trickle.
public struct RefreshService: Service {
    public struct Configuration: Sendable {
        /// How often it looks for due work.
        public var pollInterval: Duration = .seconds(1)
        /// Credentials claimed per look.
        public var batchSize = 100
        /// Refreshes running at once per instance.
        public var concurrency = 16
        /// How often expired credentials are marked and old ones purged.
        public var cleanupInterval: TimeInterval = 60
        /// How long expired credentials are kept.
        public var expiredRetention: TimeInterval = 30 * 24 * 3600

        public init() {}
    }

    let coordinator: RefreshCoordinator
    let vault: CredentialVault
    let clock: any LatchkeyClock
    let configuration: Configuration
    let logger: Logger
    let lastCleanup = LastRun()

    public init(
        coordinator: RefreshCoordinator,
        vault: CredentialVault,
        clock: any LatchkeyClock,
        configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.coordinator = coordinator
        self.vault = vault
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until graceful shutdown, which ends it cleanly (a refresh in flight finishes or keeps its lease).
    public func run() async throws {
        await PeriodicWork.run(
            every: configuration.pollInterval,
            clock: clock,
            logger: logger,
            failure: "background refresh pass failed",
            level: .error,
            describe: PeriodicWork.errorType
        ) { _ = try await runOnce() }
    }

    /// One pass: everything due now, then the clean-up when it is time. Returns how many refreshes succeeded.
    @discardableResult
    public func runOnce() async throws -> Int {
        var succeeded = 0
        while true {
            let leaseUntil = clock.now.addingTimeInterval(coordinator.configuration.leaseLength)
            let claimed = try await vault.claimDue(owner: coordinator.owner, leaseUntil: leaseUntil, limit: configuration.batchSize)
            if claimed.isEmpty { break }
            succeeded += await refreshAll(claimed)
            if claimed.count < configuration.batchSize { break }
        }
        if await lastCleanup.due(now: clock.now, every: configuration.cleanupInterval) {
            try await vault.markExpired()
            let purged = try await vault.purgeExpired(retention: configuration.expiredRetention)
            // Each deletion is audited and sends `credential.deleted` from the vault, in the same transaction.
            if !purged.isEmpty { logger.info("expired credentials deleted", metadata: ["count": "\(purged.count)"]) }
        }
        return succeeded
    }

    private func refreshAll(_ claimed: [(id: String, tenantID: String)]) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            var next = claimed.makeIterator()
            var running = 0
            var succeeded = 0
            func startNext() -> Bool {
                guard let item = next.next() else { return false }
                group.addTask {
                    do {
                        _ = try await coordinator.refresh(id: item.id, tenantID: item.tenantID, trigger: .proactive, leased: true)
                        return true
                    } catch {
                        // The failure is recorded on the credential (and audited) when the provider was called; say
                        // here what happened to this attempt, without anything secret.
                        logger.warning(
                            "background refresh failed",
                            metadata: ["credential_id": "\(item.id)", "error": "\(RefreshService.describe(error))"]
                        )
                        return false
                    }
                }
                return true
            }
            while running < configuration.concurrency, startNext() { running += 1 }
            for await ok in group {
                if ok { succeeded += 1 }
                _ = startNext()
            }
            return succeeded
        }
    }
}

extension RefreshService {
    /// An error as a log line: the code and plain message of Latchkey's errors (never secret), else the type.
    static func describe(_ error: any Error) -> String {
        if let error = error as? LatchkeyError { return "\(error.code.rawValue): \(error.message)" }
        return String(reflecting: type(of: error))
    }
}

/// When the clean-up last ran.
actor LastRun {
    private var last: Date?

    func due(now: Date, every interval: TimeInterval) -> Bool {
        if let last, now.timeIntervalSince(last) < interval { return false }
        last = now
        return true
    }
}
