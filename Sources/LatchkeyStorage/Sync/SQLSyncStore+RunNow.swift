public import Foundation
import LatchkeyCore
import SQLKit

extension SQLSyncStore {
    public func runNow(connectionID: String, tenantID: String, datasets: [String], credentialID: String?, now: Date) async throws -> Int {
        try await database.transaction { db in
            var due = 0
            for dataset in datasets {
                var missing: SQLQueryString = """
                    SELECT c.id FROM credentials c LEFT JOIN sync_jobs j ON j.credential_id = c.id AND j.dataset = \(bind: dataset)
                    WHERE c.connection_id = \(bind: connectionID) AND c.tenant_id = \(bind: tenantID) AND c.status = 'active' AND j.id IS NULL
                    """
                if let credentialID { missing += " AND c.id = \(bind: credentialID)" }
                for row in try await db.raw(missing).all() {
                    try await db.raw(
                        Self.newJob(
                            tenantID: tenantID,
                            connectionID: connectionID,
                            credentialID: try row.string("id"),
                            dataset: dataset,
                            firstRunAt: now,
                            now: now
                        )
                    ).run()
                }
                // Due now, or earlier if it already was; a job in a run keeps its lease and its run decides what follows.
                var update: SQLQueryString = """
                    UPDATE sync_jobs SET next_run_at = CASE WHEN next_run_at > \(bind: now.ms) THEN \(bind: now.ms) ELSE next_run_at END,
                      updated_at = \(bind: now.ms)
                    WHERE connection_id = \(bind: connectionID) AND tenant_id = \(bind: tenantID) AND dataset = \(bind: dataset)
                      AND (lease_until IS NULL OR lease_until < \(bind: now.ms))
                      AND credential_id IN (SELECT id FROM credentials WHERE connection_id = \(bind: connectionID) AND status = 'active')
                    """
                if let credentialID { update += " AND credential_id = \(bind: credentialID)" }
                update += " RETURNING id"
                due += try await db.raw(update).all().count
            }
            return due
        }
    }
}
