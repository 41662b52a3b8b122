import Foundation
public import LatchkeyCore
public import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// Deletes request-log entries older than the retention (`LATCHKEY_REQUEST_LOG_RETENTION_DAYS`, 30 days by
/// default), once at start and then every `interval` of the injected clock. Every instance may run it: deleting
/// what another instance already deleted is harmless.
public struct RequestLogPurgeService: Service {
    let repository: RequestLogRepository
    let retention: Duration
    let interval: Duration
    let batchSize: Int
    let clock: any LatchkeyClock
    let logger: Logger

    public init(
        repository: RequestLogRepository,
        retentionDays: Int,
        interval: Duration = .seconds(3600),
        batchSize: Int = 5000,
        clock: any LatchkeyClock,
        logger: Logger
    ) {
        self.repository = repository
        self.retention = .seconds(retentionDays * 86_400)
        self.interval = interval
        self.batchSize = batchSize
        self.clock = clock
        self.logger = logger
    }

    /// Runs until graceful shutdown, which ends it cleanly.
    public func run() async throws {
        await PeriodicWork.run(every: interval, clock: clock, logger: logger, failure: "request log purge failed; will retry") { try await runOnce() }
    }

    /// Deletes every entry older than the retention at the clock's now, in batches; returns how many went.
    @discardableResult
    public func runOnce() async throws -> Int {
        let cutoff = clock.now.addingTimeInterval(-TimeInterval(retention.components.seconds))
        var total = 0
        while true {
            let removed = try await repository.purge(before: cutoff, limit: batchSize)
            total += removed
            if removed < batchSize || Task.isCancelled { break }
        }
        if total > 0 { logger.info("request log purged", metadata: ["removed": "\(total)", "before": "\(cutoff)"]) }
        return total
    }
}
