public import Foundation
public import LatchkeyCore
import SQLKit

/// Incident revocation runs (`incident_jobs`) and the credentials they cover, in id order so a run resumes after
/// the last one it dealt with.
public struct IncidentJobRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ job: IncidentJob) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO incident_jobs (id, tenant_id, scope, integration_key, app_id, status, total, processed, revoked,
                  not_supported, revocation_failed, cursor_id, actor, error, lease_until, started_at, updated_at, finished_at)
                VALUES (\(bind: job.id), \(bind: job.tenantID), \(bind: job.scope.kind), \(bind: Self.integrationKey(job.scope)),
                  \(bind: Self.appID(job.scope)), \(bind: job.status.rawValue), \(bind: job.total), 0, 0, 0, 0, '', \(bind: job.actor),
                  NULL, NULL, \(bind: job.startedAt.ms), \(bind: job.updatedAt.ms), NULL)
                """
            ).run()
        }
    }

    public func find(id: String, tenantID: String) async throws -> IncidentJob? {
        try await database.read { db in
            try await db.raw("SELECT * FROM incident_jobs WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)").first().map(Self.job(from:))
        }
    }

    /// The tenant's runs, newest first.
    public func list(tenantID: String, limit: Int = 20) async throws -> [IncidentJob] {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM incident_jobs WHERE tenant_id = \(bind: tenantID) ORDER BY started_at DESC, id DESC LIMIT \(bind: limit)"
            ).all().map(Self.job(from:))
        }
    }

    /// Runs left `running` whose lease has lapsed (their process stopped): the ones to resume.
    public func interrupted(tenantID: String, now: Date) async throws -> [IncidentJob] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM incident_jobs WHERE tenant_id = \(bind: tenantID) AND status = 'running'
                  AND (lease_until IS NULL OR lease_until < \(bind: now.ms)) ORDER BY started_at, id
                """
            ).all().map(Self.job(from:))
        }
    }

    /// The tenants with a run left `running` whose lease has lapsed.
    public func tenantsWithInterruptedRuns(now: Date) async throws -> [String] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT DISTINCT tenant_id FROM incident_jobs WHERE status = 'running'
                  AND (lease_until IS NULL OR lease_until < \(bind: now.ms)) ORDER BY tenant_id
                """
            ).all().map { try $0.string("tenant_id") }
        }
    }

    /// Extends the lease of a run this process holds (a sign of life while one credential takes long).
    public func renewLease(id: String, tenantID: String, now: Date, until: Date) async throws {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE incident_jobs SET lease_until = \(bind: until.ms), updated_at = \(bind: now.ms)
                WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND status = 'running'
                """
            ).run()
        }
    }

    /// Takes the run for `until`, unless another process holds it; true when taken. Committed before any work.
    public func claim(id: String, tenantID: String, now: Date, until: Date) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE incident_jobs SET lease_until = \(bind: until.ms), updated_at = \(bind: now.ms)
                WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND status = 'running'
                  AND (lease_until IS NULL OR lease_until < \(bind: now.ms)) RETURNING id
                """
            ).first() != nil
        }
    }

    /// Saves the counts, cursor, status and lease of `job`.
    public func save(_ job: IncidentJob) async throws {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE incident_jobs SET status = \(bind: job.status.rawValue), processed = \(bind: job.processed),
                  revoked = \(bind: job.revoked), not_supported = \(bind: job.notSupported),
                  revocation_failed = \(bind: job.revocationFailed), cursor_id = \(bind: job.cursor), error = \(bind: job.error),
                  lease_until = \(bind: job.leaseUntil?.ms), updated_at = \(bind: job.updatedAt.ms), finished_at = \(bind: job.finishedAt?.ms)
                WHERE id = \(bind: job.id) AND tenant_id = \(bind: job.tenantID)
                """
            ).run()
        }
    }

    // MARK: Credentials in scope

    /// How many credentials the scope covers, per integration key.
    public func countByIntegration(_ scope: IncidentScope, tenantID: String) async throws -> [(integration: String, credentials: Int)] {
        try await database.read { db in
            let rows: [any SQLRow]
            switch scope {
            case .integration(let key):
                rows = try await db.raw(
                    """
                    SELECT i.key AS key, COUNT(*) AS n FROM credentials c JOIN connections n ON n.id = c.connection_id
                      JOIN integrations i ON i.id = n.integration_id
                    WHERE c.tenant_id = \(bind: tenantID) AND i.key = \(bind: key) GROUP BY i.key ORDER BY i.key
                    """
                ).all()
            case .app(let id):
                rows = try await db.raw(
                    """
                    SELECT i.key AS key, COUNT(*) AS n FROM credentials c JOIN connections n ON n.id = c.connection_id
                      JOIN integrations i ON i.id = n.integration_id
                    WHERE c.tenant_id = \(bind: tenantID) AND n.app_id = \(bind: id) GROUP BY i.key ORDER BY i.key
                    """
                ).all()
            case .tenant:
                rows = try await db.raw(
                    """
                    SELECT i.key AS key, COUNT(*) AS n FROM credentials c JOIN connections n ON n.id = c.connection_id
                      JOIN integrations i ON i.id = n.integration_id
                    WHERE c.tenant_id = \(bind: tenantID) GROUP BY i.key ORDER BY i.key
                    """
                ).all()
            }
            return try rows.map { (try $0.string("key"), try $0.int("n")) }
        }
    }

    /// The next credential ids in scope after `cursor`, in id order.
    public func credentialIDs(_ scope: IncidentScope, tenantID: String, after cursor: String, limit: Int) async throws -> [String] {
        try await database.read { db in
            let rows: [any SQLRow]
            switch scope {
            case .integration(let key):
                rows = try await db.raw(
                    """
                    SELECT c.id FROM credentials c JOIN connections n ON n.id = c.connection_id JOIN integrations i ON i.id = n.integration_id
                    WHERE c.tenant_id = \(bind: tenantID) AND i.key = \(bind: key) AND c.id > \(bind: cursor) ORDER BY c.id LIMIT \(bind: limit)
                    """
                ).all()
            case .app(let id):
                rows = try await db.raw(
                    """
                    SELECT c.id FROM credentials c JOIN connections n ON n.id = c.connection_id
                    WHERE c.tenant_id = \(bind: tenantID) AND n.app_id = \(bind: id) AND c.id > \(bind: cursor) ORDER BY c.id LIMIT \(bind: limit)
                    """
                ).all()
            case .tenant:
                rows = try await db.raw(
                    """
                    SELECT c.id FROM credentials c
                    WHERE c.tenant_id = \(bind: tenantID) AND c.id > \(bind: cursor) ORDER BY c.id LIMIT \(bind: limit)
                    """
                ).all()
            }
            return try rows.map { try $0.string("id") }
        }
    }

    static func integrationKey(_ scope: IncidentScope) -> String? {
        if case .integration(let key) = scope { return key }
        return nil
    }

    static func appID(_ scope: IncidentScope) -> String? {
        if case .app(let id) = scope { return id }
        return nil
    }

    static func job(from row: any SQLRow) throws -> IncidentJob {
        let scope: IncidentScope =
            switch try row.string("scope") {
            case "integration": .integration(try row.optionalString("integration_key") ?? "")
            case "app": .app(try row.optionalString("app_id") ?? "")
            default: .tenant
            }
        var job = IncidentJob(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            scope: scope,
            total: try row.int("total"),
            actor: try row.string("actor"),
            startedAt: try row.date("started_at")
        )
        job.status = IncidentJob.Status(rawValue: try row.string("status")) ?? .failed
        job.processed = try row.int("processed")
        job.revoked = try row.int("revoked")
        job.notSupported = try row.int("not_supported")
        job.revocationFailed = try row.int("revocation_failed")
        job.cursor = try row.string("cursor_id")
        job.error = try row.optionalString("error")
        job.leaseUntil = try row.optionalDate("lease_until")
        job.updatedAt = try row.date("updated_at")
        job.finishedAt = try row.optionalDate("finished_at")
        return job
    }
}
