import Crypto
public import Foundation
public import LatchkeyCore
import SQLKit

/// ``SyncStore`` over SQLite or PostgreSQL. Records are sealed with the keyring, bound to their tenant, credential
/// and row (a record moved to another credential does not open); their id is derived from the credential, dataset
/// and key, so that an upsert keeps the row its ciphertext is bound to.
public struct SQLSyncStore: SyncStore {
    let database: Database
    let keyring: Keyring
    /// Where `sync.completed` and `sync.failed` are queued; nil queues nothing.
    let webhooks: WebhookOutbox?

    public init(database: Database, keyring: Keyring, webhooks: WebhookOutbox? = nil) {
        self.database = database
        self.keyring = keyring
        self.webhooks = webhooks
    }

    static let recordField = "sync_record"

    public func settings(connectionID: String) async throws -> [SyncSetting] {
        try await database.read { db in
            try await db.raw("SELECT * FROM sync_settings WHERE connection_id = \(bind: connectionID) ORDER BY dataset").all().map { row in
                SyncSetting(
                    dataset: try row.string("dataset"),
                    enabled: try row.bool("enabled"),
                    intervalSeconds: try row.int("interval_seconds"),
                    updatedAt: try row.date("updated_at")
                )
            }
        }
    }

    public func save(settings: [SyncSetting], connectionID: String, tenantID: String) async throws {
        try await database.transaction { db in
            for setting in settings {
                try await db.raw(
                    """
                    INSERT INTO sync_settings (connection_id, dataset, tenant_id, enabled, interval_seconds, updated_at)
                    VALUES (\(bind: connectionID), \(bind: setting.dataset), \(bind: tenantID), \(bind: setting.enabled ? 1 : 0),
                      \(bind: setting.intervalSeconds), \(bind: setting.updatedAt.ms))
                    ON CONFLICT (connection_id, dataset) DO UPDATE SET enabled = excluded.enabled,
                      interval_seconds = excluded.interval_seconds, updated_at = excluded.updated_at
                    """
                ).run()
            }
        }
    }

    public func unplanned(limit: Int) async throws -> [UnplannedSync] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT c.id AS credential_id, c.tenant_id, c.connection_id, s.dataset, s.interval_seconds
                FROM credentials c JOIN sync_settings s ON s.connection_id = c.connection_id AND s.enabled = 1
                LEFT JOIN sync_jobs j ON j.credential_id = c.id AND j.dataset = s.dataset
                WHERE j.id IS NULL AND c.status = 'active' ORDER BY c.id, s.dataset LIMIT \(bind: limit)
                """
            ).all().map { row in
                UnplannedSync(
                    tenantID: try row.string("tenant_id"),
                    connectionID: try row.string("connection_id"),
                    credentialID: try row.string("credential_id"),
                    dataset: try row.string("dataset"),
                    intervalSeconds: try row.int("interval_seconds")
                )
            }
        }
    }

    public func plan(_ sync: UnplannedSync, firstRunAt: Date, now: Date) async throws {
        try await database.write { db in
            try await db.raw(
                Self.newJob(
                    tenantID: sync.tenantID,
                    connectionID: sync.connectionID,
                    credentialID: sync.credentialID,
                    dataset: sync.dataset,
                    firstRunAt: firstRunAt,
                    now: now
                )
            ).run()
        }
    }

    /// A pending job whose first run is at `firstRunAt`; nothing when the credential has one for the dataset already.
    static func newJob(tenantID: String, connectionID: String, credentialID: String, dataset: String, firstRunAt: Date, now: Date) -> SQLQueryString {
        """
        INSERT INTO sync_jobs (id, tenant_id, connection_id, credential_id, dataset, status, lease_owner, lease_until,
          next_run_at, last_run_at, last_success_at, last_error, failures, record_count, run, page_cursor, since,
          created_at, updated_at)
        VALUES (\(bind: NewID.make()), \(bind: tenantID), \(bind: connectionID), \(bind: credentialID),
          \(bind: dataset), 'pending', NULL, NULL, \(bind: firstRunAt.ms), NULL, NULL, NULL, 0, 0, 0, NULL, NULL,
          \(bind: now.ms), \(bind: now.ms))
        ON CONFLICT (credential_id, dataset) DO NOTHING
        """
    }

    public func pauseUnusable(now: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE sync_jobs SET status = 'paused', updated_at = \(bind: now.ms),
                  last_error = 'The credential cannot be used until the person reconnects.'
                WHERE status <> 'paused' AND credential_id IN (SELECT id FROM credentials WHERE status <> 'active') RETURNING id
                """
            ).all().count
        }
    }

    public func claimDue(now: Date, owner: String, until: Date, limit: Int) async throws -> [SyncJob] {
        try await database.write { db in
            let claimed = try await db.raw(
                """
                UPDATE sync_jobs SET lease_owner = \(bind: owner), lease_until = \(bind: until.ms), updated_at = \(bind: now.ms)
                WHERE id IN (
                  SELECT j.id FROM sync_jobs j
                  JOIN sync_settings s ON s.connection_id = j.connection_id AND s.dataset = j.dataset AND s.enabled = 1
                  JOIN credentials c ON c.id = j.credential_id AND c.status = 'active'
                  WHERE j.next_run_at <= \(bind: now.ms) AND (j.lease_until IS NULL OR j.lease_until < \(bind: now.ms))
                  ORDER BY j.next_run_at, j.id LIMIT \(bind: limit))
                AND (lease_until IS NULL OR lease_until < \(bind: now.ms))
                RETURNING id
                """
            ).all().map { try $0.string("id") }
            guard !claimed.isEmpty else { return [] }
            var query: SQLQueryString = "\(unsafeRaw: Self.selectJobs) WHERE j.lease_owner = \(bind: owner) AND j.id IN ("
            for (index, id) in claimed.enumerated() { query += index == 0 ? "\(bind: id)" : ", \(bind: id)" }
            query += ") ORDER BY j.next_run_at, j.id"
            return try await db.raw(query).all().map(Self.job(from:))
        }
    }

    public func savePage(_ records: [SyncRecord], job: SyncJob, owner: String, until: Date) async throws {
        let sealed = try records.map { record in
            let id = Self.recordID(credentialID: job.credentialID, dataset: job.dataset, key: record.key)
            let context = EncryptionContext(tenantID: job.tenantID, ownerID: job.credentialID, recordID: id, field: Self.recordField)
            return (id: id, record: record, payload: try keyring.seal(record.payload, context: context))
        }
        let version = keyring.activeVersion
        try await database.transaction { db in
            try await fence(
                job,
                owner: owner,
                set: "page_cursor = \(bind: job.pageCursor), run_pages = \(bind: job.runPages), lease_until = \(bind: until.ms)",
                on: db
            )
            // One statement per chunk of rows, not per record; a key the provider listed twice keeps its last copy
            // (PostgreSQL refuses to upsert one row twice in a statement).
            var seen: Set<String> = []
            let unique = Array(sealed.reversed().filter { seen.insert($0.id).inserted }.reversed())
            for start in stride(from: 0, to: unique.count, by: Self.recordsPerStatement) {
                var statement: SQLQueryString =
                    "INSERT INTO sync_records (id, tenant_id, credential_id, dataset, record_key, payload, key_version, run, updated_at) VALUES "
                for (index, item) in unique[start..<min(start + Self.recordsPerStatement, unique.count)].enumerated() {
                    if index > 0 { statement += ", " }
                    statement +=
                        "(\(bind: item.id), \(bind: job.tenantID), \(bind: job.credentialID), \(bind: job.dataset), \(bind: item.record.key), "
                    statement += "\(bind: item.payload), \(bind: version), \(bind: job.run + 1), \(bind: item.record.updatedAt.ms))"
                }
                statement += """
                     ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, key_version = excluded.key_version, run = excluded.run, \
                    updated_at = excluded.updated_at
                    """
                try await db.raw(statement).run()
            }
        }
    }

    /// Rows per upsert statement: 9 parameters each, well under SQLite's and PostgreSQL's limits.
    static let recordsPerStatement = 200

    public func finish(_ job: SyncJob, owner: String, fullRun: Bool, now: Date) async throws -> SyncFinished {
        try await database.transaction { db in
            var removed = 0
            if fullRun {
                removed = try await db.raw(
                    """
                    DELETE FROM sync_records WHERE credential_id = \(bind: job.credentialID) AND dataset = \(bind: job.dataset)
                      AND run <= \(bind: job.run) RETURNING id
                    """
                ).all().count
            }
            var finished = job
            finished.recordCount =
                try await db.raw(
                    "SELECT COUNT(*) AS n FROM sync_records WHERE credential_id = \(bind: job.credentialID) AND dataset = \(bind: job.dataset)"
                ).first()?.int("n") ?? 0
            finished.run = job.run + 1
            finished.pageCursor = nil
            finished.leaseUntil = nil
            try await fence(finished, owner: owner, set: Self.assignments(finished, now: now), on: db)
            try await emitCompleted(finished, removed: removed, fullRun: fullRun, on: db)
            return SyncFinished(job: finished, removed: removed)
        }
    }

    public func release(_ job: SyncJob, owner: String, now: Date) async throws {
        var released = job
        released.leaseUntil = nil
        try await database.write { db in try await fence(released, owner: owner, set: Self.assignments(released, now: now), on: db) }
    }

    public func job(credentialID: String, dataset: String) async throws -> SyncJob? {
        try await database.read { db in
            try await db.raw("\(unsafeRaw: Self.selectJobs) WHERE j.credential_id = \(bind: credentialID) AND j.dataset = \(bind: dataset)")
                .first().map(Self.job(from:))
        }
    }

    public func jobs(connectionID: String) async throws -> [SyncJob] {
        try await database.read { db in
            try await db.raw("\(unsafeRaw: Self.selectJobs) WHERE j.connection_id = \(bind: connectionID) ORDER BY j.dataset, j.credential_id")
                .all().map(Self.job(from:))
        }
    }

    public func records(credentialID: String, dataset: String, after: String?, limit: Int) async throws -> [SyncRecord] {
        let rows = try await database.read { db in
            try await db.raw(
                """
                SELECT id, tenant_id, record_key, payload, updated_at FROM sync_records
                WHERE credential_id = \(bind: credentialID) AND dataset = \(bind: dataset) AND record_key > \(bind: after ?? "")
                ORDER BY record_key LIMIT \(bind: limit)
                """
            ).all()
        }
        return try rows.map { row in
            let context = EncryptionContext(
                tenantID: try row.string("tenant_id"),
                ownerID: credentialID,
                recordID: try row.string("id"),
                field: Self.recordField
            )
            return SyncRecord(
                key: try row.string("record_key"),
                payload: try keyring.open(try row.data("payload"), context: context),
                updatedAt: try row.date("updated_at")
            )
        }
    }

    // MARK: Rows

    static let selectJobs = """
        SELECT j.*, n.app_id AS app_id, i.key AS integration_key FROM sync_jobs j JOIN connections n ON n.id = j.connection_id
          JOIN integrations i ON i.id = n.integration_id
        """

    /// Writes `set` on the job while `owner` still holds it; throws ``SyncLeaseLost`` otherwise.
    func fence(_ job: SyncJob, owner: String, set: SQLQueryString, on db: any SQLDatabase) async throws {
        let query: SQLQueryString = "UPDATE sync_jobs SET " + set + " WHERE id = \(bind: job.id) AND lease_owner = \(bind: owner) RETURNING id"
        guard try await db.raw(query).first() != nil else { throw SyncLeaseLost(jobID: job.id) }
    }

    static func assignments(_ job: SyncJob, now: Date) -> SQLQueryString {
        """
        status = \(bind: job.status.rawValue), lease_owner = NULL, lease_until = NULL, next_run_at = \(bind: job.nextRunAt.ms),
          last_run_at = \(bind: job.lastRunAt?.ms), last_success_at = \(bind: job.lastSuccessAt?.ms), last_error = \(bind: job.lastError),
          failures = \(bind: job.failures), record_count = \(bind: job.recordCount), run = \(bind: job.run),
          page_cursor = \(bind: job.pageCursor), since = \(bind: job.since), run_pages = \(bind: job.runPages), updated_at = \(bind: now.ms)
        """
    }

    static func job(from row: any SQLRow) throws -> SyncJob {
        SyncJob(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            connectionID: try row.string("connection_id"),
            appID: try row.string("app_id"),
            integrationKey: try row.string("integration_key"),
            credentialID: try row.string("credential_id"),
            dataset: try row.string("dataset"),
            status: SyncJob.Status(rawValue: try row.string("status")) ?? .pending,
            leaseUntil: try row.optionalDate("lease_until"),
            nextRunAt: try row.date("next_run_at"),
            lastRunAt: try row.optionalDate("last_run_at"),
            lastSuccessAt: try row.optionalDate("last_success_at"),
            lastError: try row.optionalString("last_error"),
            failures: try row.int("failures"),
            recordCount: try row.int("record_count"),
            run: try row.int("run"),
            pageCursor: try row.optionalString("page_cursor"),
            since: try row.optionalString("since"),
            runPages: try row.int("run_pages")
        )
    }

    /// `sr_` and the SHA-256 of the credential, dataset and key: the same record always lands on the same row.
    static func recordID(credentialID: String, dataset: String, key: String) -> String {
        let digest = SHA256.hash(data: Data("\(credentialID)\u{0}\(dataset)\u{0}\(key)".utf8))
        return "sr_" + digest.prefix(20).map { String(format: "%02x", $0) }.joined()
    }
}
