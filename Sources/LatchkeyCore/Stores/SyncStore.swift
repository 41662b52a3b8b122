public import Foundation

/// Where reference-data sync keeps its settings, jobs and records (`SQLSyncStore` over SQLite or PostgreSQL).
///
/// Jobs are leased: ``claimDue(now:owner:until:limit:)`` takes due jobs in one statement, so that of several
/// instances only one runs a job; every later write of the job is fenced by the owner and fails (``SyncLeaseLost``)
/// once another instance has taken it. Records are sealed with the vault's keyring (they can hold personal data) and
/// upserted by key, so a run that is repeated or resumed never stores a record twice. Jobs and records go with their
/// credential.
public protocol SyncStore: Sendable {
    /// The Connection's settings, by dataset (only the datasets ever set).
    func settings(connectionID: String) async throws -> [SyncSetting]
    /// Replaces the settings of the datasets named.
    func save(settings: [SyncSetting], connectionID: String, tenantID: String) async throws

    /// Credentials that are usable, on a Connection with an enabled dataset, and have no job for it yet.
    func unplanned(limit: Int) async throws -> [UnplannedSync]
    /// Creates the job of `sync` (nothing when another instance just did), first run at `firstRunAt`.
    func plan(_ sync: UnplannedSync, firstRunAt: Date, now: Date) async throws
    /// Marks the jobs of credentials that cannot be used as paused; answers how many.
    func pauseUnusable(now: Date) async throws -> Int
    /// Makes the jobs of `connectionID` for `datasets` (only `credentialID`'s when given) due at `now`, planning the
    /// jobs of usable credentials that have none yet; jobs running now (leased) are left to their run, and jobs of
    /// credentials that cannot be used stay paused. Answers how many jobs are due now.
    func runNow(connectionID: String, tenantID: String, datasets: [String], credentialID: String?, now: Date) async throws -> Int

    /// Leases up to `limit` due jobs (enabled, credential usable, not leased) to `owner` until `until`.
    func claimDue(now: Date, owner: String, until: Date, limit: Int) async throws -> [SyncJob]
    /// Upserts one page of records and saves where the run resumes (`pageCursor`), extending the lease; fenced.
    func savePage(_ records: [SyncRecord], job: SyncJob, owner: String, until: Date) async throws
    /// Ends a complete run: on a full run, records the run did not see are removed; then the job's status,
    /// schedule and counts are saved from `job` (its `recordCount` is counted here) and the lease released, and
    /// `sync.completed` is queued in the same transaction. Fenced.
    func finish(_ job: SyncJob, owner: String, fullRun: Bool, now: Date) async throws -> SyncFinished
    /// Saves `job`'s status, error, failures and next run (the page cursor kept) and releases the lease. Fenced.
    func release(_ job: SyncJob, owner: String, now: Date) async throws
    /// Saves a run given up for this attempt as ``release(_:owner:now:)`` does, and queues `sync.failed` in the
    /// same transaction. Fenced.
    func fail(_ job: SyncJob, owner: String, failure: SyncFailure, now: Date) async throws

    /// The share of the Connection's rate budget sync may use; nil when it was never set.
    func budgetFraction(connectionID: String) async throws -> Double?
    /// Sets the share of the Connection's rate budget sync may use.
    func save(budgetFraction: Double, connectionID: String, tenantID: String, now: Date) async throws
    /// Jobs by status across the database, and how many are overdue by more than `margin` seconds at `now`.
    func jobCounts(now: Date, margin: TimeInterval) async throws -> SyncJobCounts

    /// The job of a credential and dataset.
    func job(credentialID: String, dataset: String) async throws -> SyncJob?
    /// Every job of a Connection.
    func jobs(connectionID: String) async throws -> [SyncJob]
    /// Stored records of a credential and dataset with a key after `after`, in key order, opened.
    func records(credentialID: String, dataset: String, after: String?, limit: Int) async throws -> [SyncRecord]
}

/// A job's lease was taken by another instance (this one was too slow): its work is dropped, not saved.
public struct SyncLeaseLost: Error, Sendable, Equatable {
    public var jobID: String

    public init(jobID: String) { self.jobID = jobID }
}
