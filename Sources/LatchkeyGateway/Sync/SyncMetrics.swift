import Foundation
import LatchkeyCore
import Metrics
import Synchronization

/// The metrics of reference-data sync. Labels are catalog dataset names (`github.repos`) and fixed words: never a
/// credential, an end user or a Connection.
/// - `latchkey_sync_runs_total{dataset,outcome}`: runs by how they ended (completed; failed: retried with backoff;
///   paused: the account must be reconnected; deferred: held back by the budget, the provider's limit or a long walk).
/// - `latchkey_sync_pages_total{dataset}`: pages fetched, one provider call each.
/// - `latchkey_sync_records_total{dataset,change}`: records upserted (every record of every page) and removed.
/// - `latchkey_sync_run_duration_seconds{dataset}`: from a complete run's first page to its end, across passes.
/// - `latchkey_sync_jobs{status}` and `latchkey_sync_jobs_overdue`: across the database, refreshed once a minute.
final class SyncMetrics: Sendable {
    static let outcomes = ["completed", "failed", "paused", "deferred"]
    private let gaugesAt = Mutex<Date?>(nil)

    func run(dataset: String, outcome: String) {
        Counter(label: "latchkey_sync_runs_total", dimensions: [("dataset", dataset), ("outcome", outcome)]).increment()
    }

    func page(dataset: String, records: Int) {
        Counter(label: "latchkey_sync_pages_total", dimensions: [("dataset", dataset)]).increment()
        Counter(label: "latchkey_sync_records_total", dimensions: [("dataset", dataset), ("change", "upserted")]).increment(by: records)
    }

    func completed(dataset: String, removed: Int, seconds: TimeInterval) {
        run(dataset: dataset, outcome: "completed")
        Counter(label: "latchkey_sync_records_total", dimensions: [("dataset", dataset), ("change", "removed")]).increment(by: removed)
        Recorder(label: "latchkey_sync_run_duration_seconds", dimensions: [("dataset", dataset)], aggregate: true).record(max(0, seconds))
    }

    /// Whether the gauges are due at `now` (the first time, then every `every` seconds); marks them done.
    func gaugesDue(now: Date, every: TimeInterval) -> Bool {
        gaugesAt.withLock { last in
            if let last, now.timeIntervalSince(last) < every, now >= last { return false }
            last = now
            return true
        }
    }

    func publish(_ counts: SyncJobCounts) {
        for status in SyncJob.Status.allCases {
            Gauge(label: "latchkey_sync_jobs", dimensions: [("status", status.rawValue)]).record(counts.byStatus[status] ?? 0)
        }
        Gauge(label: "latchkey_sync_jobs_overdue").record(counts.overdue)
    }
}
