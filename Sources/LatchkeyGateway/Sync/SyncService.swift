public import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
public import LatchkeyProviders
import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// Reference-data sync (issue: reference data per credential): keeps each enabled dataset of a Connection stored for
/// every usable credential on it. Each pass plans jobs for new credentials, pauses the jobs of credentials that need
/// re-authorisation, leases the due jobs (one instance runs each) and runs them: the dataset's pages are fetched
/// through the same proxy as tool calls (token refresh, the outbound transport, the fair limiter and circuit), paced
/// at low priority by ``SyncPacer``; each page's records are upserted with the cursor to resume from. A complete run
/// schedules the next on the credential's phase (``SyncSchedule``); a failed one is retried with backoff.
public struct SyncService: Service {
    public struct Configuration: Sendable {
        /// How often it looks for due work.
        public var pollInterval: Duration = .seconds(5)
        /// Jobs leased per look.
        public var batchSize = 20
        /// How long a lease lasts without a page saved (each page extends it).
        public var leaseLength: TimeInterval = 120
        /// Pages a run fetches before it yields the job to the next pass (it resumes from the saved cursor).
        public var maxPagesPerRun = 200
        /// First-run spread and retry backoff.
        public var schedule = SyncSchedule()
        /// How often the job gauges (`latchkey_sync_jobs`, `latchkey_sync_jobs_overdue`) are counted again.
        public var gaugeInterval: TimeInterval = 60
        /// A job is overdue when it should have run more than this long ago.
        public var overdueMargin: TimeInterval = 3600

        public init() {}
    }

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        public var planned = 0
        public var paused = 0
        public var completed = 0
        public var failed = 0
        /// Runs that stopped to leave the budget to interactive calls, or on the provider's rate limit.
        public var deferred = 0
        public var pages = 0
    }

    let store: any SyncStore
    let catalog: ProviderCatalog
    let proxy: ProxyService
    let pacer: SyncPacer
    let clock: any LatchkeyClock
    let configuration: Configuration
    let publicURL: String
    let logger: Logger
    /// Who holds the leases this instance takes.
    public let owner: String
    let metrics = SyncMetrics()

    public init(
        store: any SyncStore,
        catalog: ProviderCatalog,
        proxy: ProxyService,
        pacer: SyncPacer = SyncPacer(),
        clock: any LatchkeyClock,
        configuration: Configuration = .init(),
        publicURL: String,
        logger: Logger,
        owner: String = "sync-\(UUID().uuidString.lowercased())"
    ) {
        self.store = store
        self.catalog = catalog
        self.proxy = proxy
        self.pacer = pacer
        self.clock = clock
        self.configuration = configuration
        self.publicURL = publicURL
        self.logger = logger
        self.owner = owner
    }

    /// Runs until graceful shutdown; a run in flight keeps its lease and resumes from its last saved page.
    public func run() async throws {
        await PeriodicWork.run(
            every: configuration.pollInterval,
            clock: clock,
            logger: logger,
            failure: "reference data sync pass failed",
            level: .error,
            describe: PeriodicWork.errorType
        ) { _ = try await runOnce() }
    }

    /// One pass: plan, pause, then every job due now.
    @discardableResult
    public func runOnce() async throws -> Report {
        var report = Report()
        let now = clock.now
        while true {
            let unplanned = try await store.unplanned(limit: 500)
            for sync in unplanned {
                let first = configuration.schedule.firstRun(credentialID: sync.credentialID, interval: TimeInterval(sync.intervalSeconds), now: now)
                try await store.plan(sync, firstRunAt: first, now: now)
            }
            report.planned += unplanned.count
            if unplanned.count < 500 { break }
        }
        report.paused = try await store.pauseUnusable(now: now)
        var seen: Set<String> = []
        while true {
            let claimed = try await store.claimDue(
                now: clock.now,
                owner: owner,
                until: clock.now.addingTimeInterval(configuration.leaseLength),
                limit: configuration.batchSize
            )
            if claimed.isEmpty { break }
            var again = false
            for job in claimed {
                guard seen.insert(job.id).inserted else {
                    // Due again within this pass: left to the next one.
                    again = true
                    try await store.release(job, owner: owner, now: clock.now)
                    continue
                }
                await run(job, into: &report)
            }
            if again { break }
        }
        if metrics.gaugesDue(now: clock.now, every: configuration.gaugeInterval) {
            metrics.publish(try await store.jobCounts(now: clock.now, margin: configuration.overdueMargin))
        }
        return report
    }

    private func run(_ claimed: SyncJob, into report: inout Report) async {
        var job = claimed
        let started = clock.now
        let interval = TimeInterval(
            (try? await store.settings(connectionID: job.connectionID))?.first { $0.dataset == job.dataset }?.intervalSeconds
                ?? SyncSetting.defaultIntervalSeconds
        )
        // The Connection's share of its budget, read once a run (a change applies from the next run).
        let fraction = (try? await store.budgetFraction(connectionID: job.connectionID)) ?? nil
        do {
            guard let (provider, dataset, tool) = catalog.dataset(named: job.dataset) else {
                throw LatchkeyError(.invalidRequest, "The dataset \(job.dataset) is no longer in the catalog; turn it off on the connection.")
            }
            let paging = SyncPaging(dataset: dataset, tool: tool)
            // An incremental dataset asks for changes only once a full run has set its watermark.
            let since = dataset.incremental == nil ? nil : job.since
            var watermark = since
            var pages = 0
            if job.pageCursor == nil {
                job.lastRunAt = started
                job.runPages = 0
            }
            while true {
                if let wait = admit(job, fraction: fraction) {
                    job.nextRunAt = clock.now.addingTimeInterval(wait)
                    try await store.release(job, owner: owner, now: clock.now)
                    report.deferred += 1
                    metrics.run(dataset: job.dataset, outcome: "deferred")
                    return
                }
                let call = try paging.call(cursor: job.pageCursor, since: since)
                let answer = try await fetch(call, job: job)
                let failure = ToolFailure(
                    name: provider.displayName,
                    provider: provider,
                    credential: answer.credential,
                    appID: job.appID,
                    publicURL: publicURL
                )
                if let error = failure.error(status: answer.status, headers: answer.headers, body: answer.body, tool: tool) { throw error }
                guard let page = paging.read(answer.body, cursor: job.pageCursor) else {
                    throw LatchkeyError(
                        .providerUnreachable,
                        "\(provider.displayName) answered \(tool.name) without the list of records the dataset \(dataset.name) reads."
                    )
                }
                if let mark = page.watermark, mark > (watermark ?? "") { watermark = mark }
                job.pageCursor = page.next
                let now = clock.now
                let records = page.records.map { record in
                    SyncRecord(key: record.key, payload: Data(ToolJSON.bytes(record.fields)), updatedAt: now)
                }
                job.runPages += 1
                try await store.savePage(records, job: job, owner: owner, until: now.addingTimeInterval(configuration.leaseLength))
                metrics.page(dataset: job.dataset, records: records.count)
                pages += 1
                report.pages += 1
                if page.next == nil { break }
                if pages >= configuration.maxPagesPerRun {
                    // A long walk yields; the next pass resumes it from the saved cursor.
                    job.nextRunAt = clock.now.addingTimeInterval(1)
                    try await store.release(job, owner: owner, now: clock.now)
                    report.deferred += 1
                    metrics.run(dataset: job.dataset, outcome: "deferred")
                    return
                }
            }
            let now = clock.now
            job.status = .ok
            job.lastSuccessAt = now
            job.lastError = nil
            job.failures = 0
            job.since = dataset.incremental == nil ? nil : watermark
            job.nextRunAt = configuration.schedule.nextRun(credentialID: job.credentialID, interval: interval, now: now)
            let finished = try await store.finish(job, owner: owner, fullRun: since == nil, now: now)
            report.completed += 1
            metrics.completed(dataset: job.dataset, removed: finished.removed, seconds: now.timeIntervalSince(job.lastRunAt ?? started))
            logger.info(
                "reference data synced",
                metadata: ["dataset": "\(job.dataset)", "credential_id": "\(job.credentialID)", "records": "\(finished.job.recordCount)"]
            )
        } catch let lost as SyncLeaseLost {
            logger.warning("reference data sync lost its lease; another instance runs it", metadata: ["job_id": "\(lost.jobID)"])
        } catch {
            await failed(job, error: error, interval: interval, into: &report)
        }
    }

    /// Pauses, defers or schedules a retry of a run that stopped on `error`.
    private func failed(_ stopped: SyncJob, error: any Error, interval: TimeInterval, into report: inout Report) async {
        var job = stopped
        let now = clock.now
        let latchkey = error as? LatchkeyError
        // What `sync.failed` says: the error code and words of our own (the message may quote the provider).
        var failure: SyncFailure?
        switch latchkey?.code {
        case .needsReauth?, .providerRevoked?, .notConnected?:
            job.status = .paused
            job.lastError = latchkey?.message
            job.pageCursor = nil
            // Not claimed while the credential is marked unusable. One the provider refused without that mark is
            // tried again with backoff (up to the interval), in case the refusal passes.
            job.failures += 1
            job.nextRunAt = configuration.schedule.retry(failures: job.failures, interval: interval, retryAfter: nil, now: now)
            report.paused += 1
            failure = .of(code: latchkey?.code.rawValue ?? "needs_reauth", paused: true)
        case .rateLimited?, .providerUnavailable?:
            // Not the job's fault: the budget or the circuit; try again when they allow, from the same page.
            job.nextRunAt = configuration.schedule.retry(
                failures: 1,
                interval: interval,
                retryAfter: latchkey?.retryAfter.map(TimeInterval.init),
                now: now
            )
            job.lastError = latchkey?.message
            report.deferred += 1
        default:
            job.failures += 1
            job.status = .failed
            job.lastError = latchkey?.message ?? "The sync stopped on an internal error; it will be tried again."
            job.nextRunAt = configuration.schedule.retry(failures: job.failures, interval: interval, retryAfter: nil, now: now)
            // A cursor may have gone stale at the provider: after a few failures the run starts over.
            if job.failures >= 3 { job.pageCursor = nil }
            report.failed += 1
            failure = .of(code: (latchkey?.code ?? .internalError).rawValue, paused: false)
            logger.warning(
                "reference data sync failed",
                metadata: ["dataset": "\(job.dataset)", "credential_id": "\(job.credentialID)", "failures": "\(job.failures)"]
            )
        }
        metrics.run(dataset: job.dataset, outcome: failure.map { $0.paused ? "paused" : "failed" } ?? "deferred")
        do {
            if let failure {
                try await store.fail(job, owner: owner, failure: failure, now: now)
            } else {
                try await store.release(job, owner: owner, now: now)
            }
        } catch {
            logger.error("reference data sync could not save its job", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
        }
    }

    /// Whether the pacer lets the job call now; nil when it may, else seconds to wait.
    private func admit(_ job: SyncJob, fraction: Double?) -> TimeInterval? {
        guard let gate = proxy.gate else { return nil }
        let policy = gate.policy(job.connectionID)
        let used = gate.limiter.usage(connectionID: job.connectionID, now: clock.now)?.used ?? 0
        let highWater = Int((Double(policy.budget) * gate.limiter.configuration.highWaterFraction).rounded(.down))
        return pacer.admit(
            connectionID: job.connectionID,
            budget: policy.budget,
            window: policy.window,
            used: used,
            highWater: highWater,
            now: clock.now,
            fraction: fraction
        )
    }

    private func fetch(_ call: ToolCall, job: SyncJob) async throws -> ProxyService.Answer {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let contentType = call.contentType { headers.append(("Content-Type", contentType)) }
        let query = CredentialResolver.Query(integrationKey: job.integrationKey, credentialID: job.credentialID, connectionID: job.connectionID)
        return try await proxy.send(
            .init(method: call.method, query: query, path: call.path, queryString: call.queryString, headers: headers, body: call.body),
            caller: CredentialResolver.Caller(tenantID: job.tenantID, appID: job.appID, actor: Self.actor)
        )
    }

    /// The actor of the sync's token use in the audit log.
    static let actor = AuditActor(id: "sync")
}
