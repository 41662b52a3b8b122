import Foundation
public import LatchkeyCore
public import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// Prunes audit events older than the retention (`--audit-retention-days`, 400 days by default), each tenant's
/// chain from its oldest event, recording a signed checkpoint first (`AuditRetention`); once at start and then every
/// `interval` of the injected clock. Every instance may run it: prunings of one tenant take turns on its chain head.
public struct AuditRetentionService: Service {
    let retention: AuditRetention
    let retentionDays: Int
    let interval: Duration
    let clock: any LatchkeyClock
    let logger: Logger

    public init(retention: AuditRetention, retentionDays: Int, interval: Duration = .seconds(3600), clock: any LatchkeyClock, logger: Logger) {
        self.retention = retention
        self.retentionDays = retentionDays
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Runs until graceful shutdown, which ends it cleanly.
    public func run() async throws {
        await PeriodicWork.run(every: interval, clock: clock, logger: logger, failure: "audit retention pruning failed; will retry") {
            try await runOnce()
        }
    }

    /// Prunes every event older than the retention at the clock's now; returns how many went.
    @discardableResult
    public func runOnce() async throws -> Int {
        let cutoff = clock.now.addingTimeInterval(-TimeInterval(retentionDays) * 86_400)
        let removed = try await retention.prune(before: cutoff)
        if removed > 0 { logger.info("audit events pruned", metadata: ["removed": "\(removed)", "before": "\(cutoff)"]) }
        return removed
    }
}
