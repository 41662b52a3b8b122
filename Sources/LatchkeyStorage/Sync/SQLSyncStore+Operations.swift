public import Foundation
public import LatchkeyCore
import SQLKit

/// The operations side of reference-data sync: the Connection's budget fraction, "sync now", the job counts behind
/// the gauges, and the webhook events each run's save queues in its own transaction.
extension SQLSyncStore {
    public func fail(_ job: SyncJob, owner: String, failure: SyncFailure, now: Date) async throws {
        var released = job
        released.leaseUntil = nil
        try await database.transaction { db in
            try await fence(released, owner: owner, set: Self.assignments(released, now: now), on: db)
            guard let webhooks else { return }
            var data = try await eventData(released, on: db)
            data["error"] = ["code": .string(failure.code), "message": .string(failure.message)]
            data["paused"] = .bool(failure.paused)
            data["failures"] = .int(released.failures)
            if !failure.paused { data["nextRunAt"] = .string(Self.timestamp(released.nextRunAt)) }
            try await webhooks.enqueue(.syncFailed, tenantID: job.tenantID, data: data, on: db)
        }
    }

    /// Queues `sync.completed` for a run saved on `db`.
    func emitCompleted(_ job: SyncJob, removed: Int, fullRun: Bool, on db: any SQLDatabase) async throws {
        guard let webhooks else { return }
        var data = try await eventData(job, on: db)
        data["recordsRemoved"] = .int(removed)
        data["fullRun"] = .bool(fullRun)
        data["nextRunAt"] = .string(Self.timestamp(job.nextRunAt))
        try await webhooks.enqueue(.syncCompleted, tenantID: job.tenantID, data: data, on: db)
    }

    /// What both events say about the job: whose credential, which dataset, how many records and pages.
    private func eventData(_ job: SyncJob, on db: any SQLDatabase) async throws -> [String: WebhookValue] {
        var data: [String: WebhookValue] = [
            "connectionId": .string(job.connectionID), "integration": .string(job.integrationKey), "dataset": .string(job.dataset),
            "credentialId": .string(job.credentialID), "status": .string(job.status.rawValue), "records": .int(job.recordCount),
            "pages": .int(job.runPages),
        ]
        let external = try await db.raw(
            """
            SELECT e.external_id FROM credentials c JOIN end_users e ON e.id = c.end_user_id WHERE c.id = \(bind: job.credentialID)
            """
        ).first()?.optionalString("external_id")
        if let external { data["externalUserId"] = .string(external) }
        return data
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    public func budgetFraction(connectionID: String) async throws -> Double? {
        try await database.read { db in
            try await db.raw("SELECT budget_fraction FROM sync_connection_settings WHERE connection_id = \(bind: connectionID)")
                .first()?.decode(column: "budget_fraction", as: Double.self)
        }
    }

    public func save(budgetFraction: Double, connectionID: String, tenantID: String, now: Date) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO sync_connection_settings (connection_id, tenant_id, budget_fraction, updated_at)
                VALUES (\(bind: connectionID), \(bind: tenantID), \(bind: budgetFraction), \(bind: now.ms))
                ON CONFLICT (connection_id) DO UPDATE SET budget_fraction = excluded.budget_fraction, updated_at = excluded.updated_at
                """
            ).run()
        }
    }

    public func jobCounts(now: Date, margin: TimeInterval) async throws -> SyncJobCounts {
        try await database.read { db in
            var counts = SyncJobCounts()
            for row in try await db.raw("SELECT status, COUNT(*) AS n FROM sync_jobs GROUP BY status").all() {
                if let status = SyncJob.Status(rawValue: try row.string("status")) { counts.byStatus[status] = try row.int("n") }
            }
            counts.overdue =
                try await db.raw(
                    """
                    SELECT COUNT(*) AS n FROM sync_jobs j
                    JOIN sync_settings s ON s.connection_id = j.connection_id AND s.dataset = j.dataset AND s.enabled = 1
                    JOIN credentials c ON c.id = j.credential_id AND c.status = 'active'
                    WHERE j.status <> 'paused' AND j.next_run_at < \(bind: now.addingTimeInterval(-margin).ms)
                      AND (j.lease_until IS NULL OR j.lease_until < \(bind: now.ms))
                    """
                ).first()?.int("n") ?? 0
            return counts
        }
    }
}
