public import Foundation
public import LatchkeyCore
import SQLKit

/// Rows of `request_log`: appended in batches, listed newest first per tenant, purged by age.
public struct RequestLogRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Appends `entries` in one statement.
    public func insert(_ entries: [RequestLogEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await database.write(invalidatesCaches: false) { db in
            var query = SQLQueryString(
                """
                INSERT INTO request_log (id, tenant_id, ts, kind, app_id, external_user_id, connection_id, integration_key, credential_id,
                  tool, http_status, error_code, latency_ms) VALUES\u{20}
                """
            )
            for (index, e) in entries.enumerated() {
                query.appendInterpolation(unsafeRaw: index == 0 ? "(" : ", (")
                query.appendInterpolation(binds: [e.id, e.tenantID] as [any Encodable & Sendable])
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(
                    binds: [
                        e.time.ms, e.kind.rawValue, e.appID, e.externalUserID, e.connectionID, e.integrationKey, e.credentialID, e.tool, e.status,
                        e.errorCode, e.latencyMilliseconds,
                    ] as [any Encodable & Sendable]
                )
                query.appendInterpolation(unsafeRaw: ")")
            }
            try await db.raw(query).run()
        }
    }

    /// A page of the tenant's entries matching `filter`, newest first, and the cursor of the next page.
    public func page(
        tenantID: String,
        filter: RequestLogFilter,
        limit: Int,
        cursor: String?
    ) async throws -> (items: [RequestLogEntry], nextCursor: String?) {
        let after = try cursor.map(ListCursor.decode)
        return try await database.read { db in
            var query = SQLQueryString("SELECT * FROM request_log WHERE tenant_id = \(bind: tenantID)")
            func and(_ sql: String, _ value: any Encodable & Sendable) {
                query.appendInterpolation(unsafeRaw: " AND \(sql) ")
                query.appendInterpolation(bind: value)
            }
            if let kind = filter.kind { and("kind =", kind.rawValue) }
            if let appID = filter.appID { and("app_id =", appID) }
            if let key = filter.integrationKey { and("integration_key =", key) }
            if let external = filter.externalUserID { and("external_user_id =", external) }
            if let statusClass = filter.statusClass {
                and("http_status >=", statusClass.range.lowerBound)
                and("http_status <", statusClass.range.upperBound)
            }
            if let since = filter.since { and("ts >=", since.ms) }
            if let until = filter.until { and("ts <", until.ms) }
            if let after {
                query.appendInterpolation(unsafeRaw: " AND (ts < ")
                query.appendInterpolation(bind: after.createdAt)
                query.appendInterpolation(unsafeRaw: " OR (ts = ")
                query.appendInterpolation(bind: after.createdAt)
                query.appendInterpolation(unsafeRaw: " AND id < ")
                query.appendInterpolation(bind: after.id)
                query.appendInterpolation(unsafeRaw: "))")
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY ts DESC, id DESC LIMIT \(limit + 1)")
            var items = try await db.raw(query).all().map(Self.entry(from:))
            var next: String?
            if items.count > limit {
                items.removeLast()
                next = items.last.map { ListCursor.encode(createdAt: $0.time, id: $0.id) }
            }
            return (items, next)
        }
    }

    /// How many calls went through the integration (proxy, tool and token calls) at or after `since`, and how many of
    /// them succeeded (answered below 400). Read from the shared log, so it counts the calls of every instance.
    public func outcomes(tenantID: String, integrationKey: String, since: Date) async throws -> (calls: Int, succeeded: Int) {
        try await database.read { db in
            let row = try await db.raw(
                """
                SELECT COUNT(*) AS calls, COUNT(CASE WHEN http_status < 400 THEN 1 END) AS succeeded FROM request_log
                WHERE tenant_id = \(bind: tenantID) AND ts >= \(bind: since.ms) AND integration_key = \(bind: integrationKey)
                  AND kind IN ('proxy', 'tool', 'token')
                """
            ).first()
            return (try row?.int("calls") ?? 0, try row?.int("succeeded") ?? 0)
        }
    }

    /// Deletes every entry (of every tenant) older than `cutoff`, at most `limit` per statement so that a large purge
    /// does not hold the writer for long; returns how many went.
    public func purge(before cutoff: Date, limit: Int) async throws -> Int {
        try await database.write(invalidatesCaches: false) { db in
            try await db.raw(
                """
                DELETE FROM request_log WHERE id IN (
                  SELECT id FROM request_log WHERE ts < \(bind: cutoff.ms) ORDER BY ts LIMIT \(unsafeRaw: String(limit)))
                RETURNING id
                """
            ).all().count
        }
    }

    static func entry(from row: any SQLRow) throws -> RequestLogEntry {
        RequestLogEntry(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            time: try row.date("ts"),
            kind: RequestKind(rawValue: try row.string("kind")) ?? .token,
            appID: try row.optionalString("app_id"),
            externalUserID: try row.optionalString("external_user_id"),
            connectionID: try row.optionalString("connection_id"),
            integrationKey: try row.optionalString("integration_key"),
            credentialID: try row.optionalString("credential_id"),
            tool: try row.optionalString("tool"),
            status: try row.int("http_status"),
            errorCode: try row.optionalString("error_code"),
            latencyMilliseconds: try row.int("latency_ms")
        )
    }
}
