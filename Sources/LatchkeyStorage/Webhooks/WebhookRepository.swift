public import Foundation
import LatchkeyCore
import SQLKit

/// Rows of `webhook_endpoints` and `webhook_deliveries`. Every read and write that an API caller can reach is scoped
/// to a tenant; the delivery worker's claim is not (it serves every tenant).
public struct WebhookRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Endpoints

    /// The tenant-level endpoint (`appID` nil) or an app's, with its sealed signing secret.
    func endpoint(
        tenantID: String,
        appID: String? = nil,
        on db: any SQLDatabase,
        lock: Bool = false
    ) async throws -> (WebhookEndpoint, sealedSecret: Data)? {
        var query = SQLQueryString("SELECT * FROM webhook_endpoints WHERE tenant_id = \(bind: tenantID)")
        Self.appendOwner(appID, to: &query)
        query.appendInterpolation(unsafeRaw: lock ? database.forUpdate : "")
        guard let row = try await db.raw(query).first() else { return nil }
        return (try Self.endpoint(from: row), try row.data("secret"))
    }

    func endpointExists(tenantID: String, appID: String? = nil, on db: any SQLDatabase) async throws -> Bool {
        var query = SQLQueryString("SELECT id FROM webhook_endpoints WHERE tenant_id = \(bind: tenantID)")
        Self.appendOwner(appID, to: &query)
        return try await db.raw(query).first() != nil
    }

    /// Who has an endpoint in the tenant: whether the tenant itself has one, and which apps do.
    func endpointOwners(tenantID: String, on db: any SQLDatabase) async throws -> (tenant: Bool, apps: Set<String>) {
        var tenant = false
        var apps: Set<String> = []
        for row in try await db.raw("SELECT app_id FROM webhook_endpoints WHERE tenant_id = \(bind: tenantID)").all() {
            if let app = try row.optionalString("app_id") { apps.insert(app) } else { tenant = true }
        }
        return (tenant, apps)
    }

    /// The kind of an app of the tenant (`console` or `external`), nil when the tenant has no such app.
    func appKind(id: String, tenantID: String, on db: any SQLDatabase) async throws -> App.Kind? {
        guard let row = try await db.raw("SELECT kind FROM apps WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)").first() else {
            return nil
        }
        return App.Kind(rawValue: try row.string("kind")) ?? .external
    }

    /// The app a Connection of the tenant belongs to.
    func appOfConnection(id: String, tenantID: String, on db: any SQLDatabase) async throws -> String? {
        try await db.raw("SELECT app_id FROM connections WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)").first()?.string("app_id")
    }

    /// ` AND app_id IS NULL` for the tenant's own endpoint and deliveries, ` AND app_id = …` for an app's.
    static func appendOwner(_ appID: String?, to query: inout SQLQueryString) {
        if let appID {
            query.appendInterpolation(unsafeRaw: " AND app_id = ")
            query.appendInterpolation(bind: appID)
        } else {
            query.appendInterpolation(unsafeRaw: " AND app_id IS NULL")
        }
    }

    /// Inserts; false when the tenant already has one (created at the same moment by another request).
    func insertEndpoint(_ endpoint: WebhookEndpoint, sealedSecret: Data, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            INSERT INTO webhook_endpoints (id, tenant_id, app_id, url, secret, key_version, created_at, updated_at)
            VALUES (\(bind: endpoint.id), \(bind: endpoint.tenantID), \(bind: endpoint.appID), \(bind: endpoint.url), \(bind: sealedSecret),
              \(bind: try Keyring.keyVersion(of: sealedSecret)), \(bind: endpoint.createdAt.ms), \(bind: endpoint.updatedAt.ms))
            ON CONFLICT DO NOTHING RETURNING id
            """
        ).first() != nil
    }

    /// Changes the URL, and the secret when `sealedSecret` is given.
    func updateEndpoint(_ endpoint: WebhookEndpoint, sealedSecret: Data?, on db: any SQLDatabase) async throws {
        var query: SQLQueryString = "UPDATE webhook_endpoints SET url = \(bind: endpoint.url), updated_at = \(bind: endpoint.updatedAt.ms)"
        if let sealedSecret {
            query.appendInterpolation(unsafeRaw: ", secret = ")
            query.appendInterpolation(bind: sealedSecret)
            query.appendInterpolation(unsafeRaw: ", key_version = ")
            query.appendInterpolation(bind: try Keyring.keyVersion(of: sealedSecret))
        }
        query.appendInterpolation(unsafeRaw: " WHERE id = ")
        query.appendInterpolation(bind: endpoint.id)
        query.appendInterpolation(unsafeRaw: " AND tenant_id = ")
        query.appendInterpolation(bind: endpoint.tenantID)
        try await db.raw(query).run()
    }

    func deleteEndpoint(id: String, tenantID: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("DELETE FROM webhook_endpoints WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) RETURNING id").first() != nil
    }

    // MARK: Deliveries

    func insertDelivery(_ d: WebhookDelivery, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO webhook_deliveries (id, tenant_id, app_id, event_id, event_type, payload, status, attempts, next_attempt_at,
              retry_until, created_at)
            VALUES (\(bind: d.id), \(bind: d.tenantID), \(bind: d.appID), \(bind: d.eventID), \(bind: d.type), \(bind: d.payload), \(bind: d.status.rawValue),
              \(bind: d.attempts), \(bind: d.nextAttemptAt.ms), \(bind: d.retryUntil.ms), \(bind: d.createdAt.ms))
            """
        ).run()
    }

    /// One delivery of the tenant.
    public func delivery(id: String, tenantID: String) async throws -> WebhookDelivery? {
        try await database.read { db in
            try await db.raw("SELECT * FROM webhook_deliveries WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)").first()
                .map(Self.delivery(from:))
        }
    }

    /// The tenant endpoint's delivery of event `eventID`, inside the caller's transaction.
    func delivery(eventID: String, tenantID: String, on db: any SQLDatabase) async throws -> WebhookDelivery? {
        try await db.raw(
            "SELECT * FROM webhook_deliveries WHERE event_id = \(bind: eventID) AND tenant_id = \(bind: tenantID) AND app_id IS NULL"
        ).first().map(Self.delivery(from:))
    }

    /// A page of the tenant's deliveries, newest first, and the cursor of the next page.
    public func deliveries(
        tenantID: String,
        status: WebhookDeliveryStatus?,
        limit: Int,
        cursor: String?
    ) async throws -> (items: [WebhookDelivery], nextCursor: String?) {
        let after = try cursor.map(ListCursor.decode)
        return try await database.read { db in
            var query = SQLQueryString("SELECT * FROM webhook_deliveries WHERE tenant_id = \(bind: tenantID)")
            if let status {
                query.appendInterpolation(unsafeRaw: " AND status = ")
                query.appendInterpolation(bind: status.rawValue)
            }
            if let after {
                query.appendInterpolation(unsafeRaw: " AND (created_at < ")
                query.appendInterpolation(bind: after.createdAt)
                query.appendInterpolation(unsafeRaw: " OR (created_at = ")
                query.appendInterpolation(bind: after.createdAt)
                query.appendInterpolation(unsafeRaw: " AND id < ")
                query.appendInterpolation(bind: after.id)
                query.appendInterpolation(unsafeRaw: "))")
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)")
            var items = try await db.raw(query).all().map(Self.delivery(from:))
            var next: String?
            if items.count > limit {
                items.removeLast()
                next = items.last.map { ListCursor.encode(createdAt: $0.createdAt, id: $0.id) }
            }
            return (items, next)
        }
    }

    /// Leases up to `limit` deliveries that are due at `now` to `owner` until `until`, and returns them. Committed
    /// before anything is sent; PostgreSQL skips rows another instance is claiming at the same moment, SQLite's single
    /// writer serializes claims.
    public func claimDue(owner: String, now: Date, until: Date, limit: Int) async throws -> [WebhookDelivery] {
        let skipLocked = database.kind == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await database.transaction { db in
            try await db.raw(
                """
                UPDATE webhook_deliveries SET lease_owner = \(bind: owner), lease_until = \(bind: until.ms)
                WHERE (lease_until IS NULL OR lease_until < \(bind: now.ms)) AND id IN (
                  SELECT id FROM webhook_deliveries
                  WHERE status IN ('pending', 'failed') AND next_attempt_at <= \(bind: now.ms)
                    AND (lease_until IS NULL OR lease_until < \(bind: now.ms))
                  ORDER BY next_attempt_at, id LIMIT \(unsafeRaw: String(limit))\(unsafeRaw: skipLocked))
                RETURNING *
                """
            ).all().map(Self.delivery(from:))
        }
    }

    /// Whether anything is due at `now` (a cheap read before taking the writer).
    public func hasDue(now: Date) async throws -> Bool {
        try await database.read { db in
            try await db.raw(
                """
                SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') AND next_attempt_at <= \(bind: now.ms)
                  AND (lease_until IS NULL OR lease_until < \(bind: now.ms)) LIMIT 1
                """
            ).first() != nil
        }
    }

    /// Records the outcome of an attempt and releases the lease, only if `owner` still holds it.
    public func recordAttempt(
        id: String,
        owner: String,
        status: WebhookDeliveryStatus,
        at: Date,
        statusCode: Int?,
        error: String?,
        nextAttemptAt: Date?
    ) async throws -> Bool {
        try await database.write { db in
            var query: SQLQueryString = """
                UPDATE webhook_deliveries SET status = \(bind: status.rawValue), attempts = attempts + 1, last_attempt_at = \(bind: at.ms),
                  last_status_code = \(bind: statusCode), last_error = \(bind: error), lease_owner = NULL, lease_until = NULL
                """
            if status == .delivered {
                query.appendInterpolation(unsafeRaw: ", delivered_at = ")
                query.appendInterpolation(bind: at.ms)
            }
            if let nextAttemptAt {
                query.appendInterpolation(unsafeRaw: ", next_attempt_at = ")
                query.appendInterpolation(bind: nextAttemptAt.ms)
            }
            query.appendInterpolation(unsafeRaw: " WHERE id = ")
            query.appendInterpolation(bind: id)
            query.appendInterpolation(unsafeRaw: " AND lease_owner = ")
            query.appendInterpolation(bind: owner)
            query.appendInterpolation(unsafeRaw: " RETURNING id")
            return try await db.raw(query).first() != nil
        }
    }

    /// Dead-letters a delivery without an attempt (its endpoint is gone), if `owner` still holds it.
    public func abandon(id: String, owner: String, error: String) async throws {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE webhook_deliveries SET status = 'dead', last_error = \(bind: error), lease_owner = NULL, lease_until = NULL
                WHERE id = \(bind: id) AND lease_owner = \(bind: owner)
                """
            ).run()
        }
    }

    /// Dead-letters every delivery to the tenant's endpoint (or the app's) that was still waiting (that endpoint is
    /// being removed).
    func abandonWaiting(tenantID: String, appID: String? = nil, error: String, on db: any SQLDatabase) async throws {
        var query = SQLQueryString(
            """
            UPDATE webhook_deliveries SET status = 'dead', last_error = \(bind: error), lease_owner = NULL, lease_until = NULL
            WHERE tenant_id = \(bind: tenantID) AND status IN ('pending', 'failed')
            """
        )
        Self.appendOwner(appID, to: &query)
        try await db.raw(query).run()
    }

    /// Queues a delivery again at `now` with a fresh retry window, unless an attempt is in flight.
    func requeue(id: String, tenantID: String, now: Date, retryUntil: Date, on db: any SQLDatabase) async throws -> WebhookDelivery? {
        try await db.raw(
            """
            UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(bind: now.ms), retry_until = \(bind: retryUntil.ms),
              delivered_at = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND (lease_until IS NULL OR lease_until < \(bind: now.ms))
            RETURNING *
            """
        ).first().map(Self.delivery(from:))
    }

    // MARK: Rows

    static func endpoint(from row: any SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            appID: try row.optionalString("app_id"),
            url: try row.string("url"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }

    static func delivery(from row: any SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            appID: try row.optionalString("app_id"),
            eventID: try row.string("event_id"),
            type: try row.string("event_type"),
            payload: try row.string("payload"),
            status: WebhookDeliveryStatus(rawValue: try row.string("status")) ?? .dead,
            attempts: try row.int("attempts"),
            nextAttemptAt: try row.date("next_attempt_at"),
            retryUntil: try row.date("retry_until"),
            lastAttemptAt: try row.optionalDate("last_attempt_at"),
            lastStatusCode: try row.optionalInt("last_status_code"),
            lastError: try row.optionalString("last_error"),
            createdAt: try row.date("created_at"),
            deliveredAt: try row.optionalDate("delivered_at"),
            leaseOwner: try row.optionalString("lease_owner"),
            leaseUntil: try row.optionalDate("lease_until")
        )
    }
}
