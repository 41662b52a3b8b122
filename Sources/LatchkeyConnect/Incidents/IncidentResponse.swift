public import Foundation
public import LatchkeyCore
public import LatchkeyLifecycle
public import LatchkeyStorage
public import Logging

/// Incident response (NFR-4): revoke every credential of an integration, an app or the tenant — at the providers,
/// then deleted here — and force-refresh an integration's credentials. A revocation is a job kept in the database and
/// worked through in id order: the counts and the cursor are saved after each credential, so a run cut short (a
/// crash, SIGKILL) resumes after the last credential it deleted and never counts one it did not delete.
public struct IncidentResponse: Sendable {
    let connect: ConnectService
    let coordinator: RefreshCoordinator
    public let jobs: IncidentJobRepository
    let audit: AuditLog
    public let clock: any LatchkeyClock
    let logger: Logger
    /// How long a run holds its job without a sign of life before another process may resume it; a run renews it
    /// every third of it while it works.
    public let leaseLength: TimeInterval
    /// Credentials read per batch.
    let batchSize: Int

    public init(
        connect: ConnectService,
        coordinator: RefreshCoordinator,
        database: Database,
        audit: AuditLog,
        clock: any LatchkeyClock,
        logger: Logger,
        leaseLength: TimeInterval = 60,
        batchSize: Int = 100
    ) {
        self.connect = connect
        self.coordinator = coordinator
        self.jobs = IncidentJobRepository(database: database)
        self.audit = audit
        self.clock = clock
        self.logger = logger
        self.leaseLength = leaseLength
        self.batchSize = batchSize
    }

    /// What a revocation of `scope` would cover: credentials per integration key. Changes nothing.
    public struct Preview: Sendable, Equatable {
        public var total: Int
        public var byIntegration: [(integration: String, credentials: Int)]

        public static func == (lhs: Preview, rhs: Preview) -> Bool {
            lhs.total == rhs.total && lhs.byIntegration.map(\.integration) == rhs.byIntegration.map(\.integration)
                && lhs.byIntegration.map(\.credentials) == rhs.byIntegration.map(\.credentials)
        }
    }

    /// The dry run: what `scope` covers now.
    public func preview(_ scope: IncidentScope, tenantID: String) async throws -> Preview {
        let counts = try await jobs.countByIntegration(scope, tenantID: tenantID)
        return Preview(total: counts.reduce(0) { $0 + $1.credentials }, byIntegration: counts)
    }

    /// Checks the phrase an administrator typed against the scope's (surrounding spaces ignored, case kept).
    public static func confirm(_ phrase: String?, for scope: IncidentScope) throws {
        let typed = phrase?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard typed == scope.confirmationPhrase else {
            let message = "type \"\(scope.confirmationPhrase)\" to confirm that every credential in this scope is revoked and deleted"
            throw LatchkeyError.invalidField("confirm", message)
        }
    }

    /// Starts a revocation of `scope` (first resuming any run of the tenant that was cut short) and works it through
    /// to the end. Audited: `incident.revoke_start` and `incident.revoke_finish` with the counts.
    /// `progress` is told of each credential dealt with (the command line prints it).
    public func revoke(
        _ scope: IncidentScope,
        tenantID: String,
        actor: AuditActor,
        progress: (@Sendable (IncidentJob) -> Void)? = nil
    ) async throws -> IncidentJob {
        try await resumeInterrupted(tenantID: tenantID, actor: actor, progress: progress)
        let preview = try await preview(scope, tenantID: tenantID)
        let job = IncidentJob(id: NewID.make(), tenantID: tenantID, scope: scope, total: preview.total, actor: actor.id, startedAt: clock.now)
        try await jobs.insert(job)
        _ = try await audit.append(
            AuditRecord(
                actor: actor,
                action: "incident.revoke_start",
                target: job.id,
                details: Self.details(scope).merging(["credentials": String(preview.total)]) { $1 }
            ),
            tenantID: tenantID
        )
        logger.warning("incident revocation started", metadata: ["job_id": "\(job.id)", "scope": "\(scope.kind)", "credentials": "\(preview.total)"])
        return try await run(jobID: job.id, tenantID: tenantID, actor: actor, progress: progress) ?? job
    }

    /// The job `id`; a run that was cut short (left running, its lease lapsed) is resumed first.
    public func job(id: String, tenantID: String, actor: AuditActor) async throws -> IncidentJob {
        guard let job = try await jobs.find(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("incident job") }
        if job.status == .running, (job.leaseUntil ?? .distantPast) < clock.now {
            return try await run(jobID: id, tenantID: tenantID, actor: actor) ?? job
        }
        return job
    }

    /// Resumes every run of the tenant that was cut short. Returns them as they ended.
    @discardableResult
    public func resumeInterrupted(
        tenantID: String,
        actor: AuditActor,
        progress: (@Sendable (IncidentJob) -> Void)? = nil
    ) async throws -> [IncidentJob] {
        var resumed: [IncidentJob] = []
        for job in try await jobs.interrupted(tenantID: tenantID, now: clock.now) {
            logger.warning("incident revocation resumed", metadata: ["job_id": "\(job.id)", "processed": "\(job.processed)"])
            if let finished = try await run(jobID: job.id, tenantID: tenantID, actor: actor, progress: progress) { resumed.append(finished) }
        }
        return resumed
    }

    /// Resumes the runs of every tenant that were cut short (`IncidentResumeService` calls it at start and once per
    /// lease), as `system:incident`. Returns them as they ended.
    @discardableResult
    public func resumeAllInterrupted() async throws -> [IncidentJob] {
        var resumed: [IncidentJob] = []
        for tenantID in try await jobs.tenantsWithInterruptedRuns(now: clock.now) {
            resumed += try await resumeInterrupted(tenantID: tenantID, actor: Self.resumer)
        }
        return resumed
    }

    /// Who resumes a run by itself, in audit events.
    public static let resumer = AuditActor(id: "system:incident")

    /// Works the job through from its cursor, unless another process holds it (then nil).
    func run(
        jobID: String,
        tenantID: String,
        actor: AuditActor,
        progress: (@Sendable (IncidentJob) -> Void)? = nil
    ) async throws -> IncidentJob? {
        guard try await jobs.claim(id: jobID, tenantID: tenantID, now: clock.now, until: clock.now.addingTimeInterval(leaseLength)),
            var job = try await jobs.find(id: jobID, tenantID: tenantID)
        else { return nil }
        let vault = connect.vault
        // A sign of life while one credential takes long (a slow provider): the lease is renewed every third of it.
        let heartbeat = Task { [jobs, clock, leaseLength] in
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: .seconds(leaseLength / 3))
                    try await jobs.renewLease(id: jobID, tenantID: tenantID, now: clock.now, until: clock.now.addingTimeInterval(leaseLength))
                } catch {
                    if Task.isCancelled { return }
                }
            }
        }
        defer { heartbeat.cancel() }
        do {
            while true {
                let ids = try await jobs.credentialIDs(job.scope, tenantID: tenantID, after: job.cursor, limit: batchSize)
                if ids.isEmpty { break }
                for id in ids {
                    let outcome: ProviderRevocation?
                    do {
                        let credential = try await vault.get(id: id, tenantID: tenantID, actor: actor)
                        outcome = try await connect.revokeAndDelete(credential, actor: actor)
                    } catch let error as LatchkeyError where error.code == .notFound {
                        outcome = nil  // deleted meanwhile by someone else: nothing to count
                    } catch let error as LatchkeyError where error.code == .decryptionFailed {
                        try await vault.deleteUnreadable(id: id, tenantID: tenantID, actor: actor)
                        outcome = .notAttempted
                    }
                    if let outcome {
                        job.record(outcome, credentialID: id)
                    } else {
                        job.cursor = id
                    }
                    job.updatedAt = clock.now
                    job.leaseUntil = clock.now.addingTimeInterval(leaseLength)
                    try await jobs.save(job)
                    progress?(job)
                }
            }
            job.status = .done
        } catch  where Task.isCancelled {
            // Stopped with the process (graceful shutdown): left running, its lease given up, to be resumed.
            job.leaseUntil = nil
            try? await jobs.save(job)
            logger.warning("incident revocation interrupted; it will be resumed", metadata: ["job_id": "\(job.id)"])
            return job
        } catch {
            job.status = .failed
            job.error = (error as? LatchkeyError)?.message ?? "The run stopped on a storage error; start it again to go on."
            logger.error("incident revocation stopped", metadata: ["job_id": "\(job.id)", "reason": "\(error)"])
        }
        job.finishedAt = clock.now
        job.updatedAt = clock.now
        job.leaseUntil = nil
        try await jobs.save(job)
        _ = try await audit.append(
            AuditRecord(
                actor: actor,
                action: "incident.revoke_finish",
                target: job.id,
                result: job.status == .done ? .success : .failure,
                details: Self.details(job.scope).merging([
                    "status": job.status.rawValue, "deleted": String(job.processed), "revoked": String(job.revoked),
                    "not_supported": String(job.notSupported), "revocation_failed": String(job.revocationFailed),
                ]) { $1 }
            ),
            tenantID: tenantID
        )
        return job
    }

    static func details(_ scope: IncidentScope) -> [String: String] {
        switch scope {
        case .integration(let key): ["scope": "integration", "integration": key]
        case .app(let id): ["scope": "app", "app_id": id]
        case .tenant: ["scope": "tenant"]
        }
    }
}
