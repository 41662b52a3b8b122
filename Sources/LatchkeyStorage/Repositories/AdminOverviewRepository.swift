public import Foundation
import LatchkeyCore
import SQLKit

/// What the console's overview page counts for a tenant, in a few cheap queries.
public struct AdminOverview: Sendable, Equatable {
    /// Console users.
    public var users = 0
    public var integrations = 0
    /// Connections: an integration in an app (the console's included).
    public var connections = 0
    /// Credentials not revoked.
    public var credentials = 0
    /// Apps other than the console.
    public var apps = 0
    /// Calls in the request log since `since`.
    public var requests = 0
    /// Webhook deliveries given up (dead).
    public var deadDeliveries = 0
    /// Credentials that need their owner to reconnect, by integration, integration keys in order.
    public var needingReauth: [NeedingReauth] = []

    /// The credentials of one integration that need reconnecting.
    public struct NeedingReauth: Sendable, Equatable {
        public var integrationKey: String
        public var provider: String
        public var displayName: String?
        public var count: Int
    }
}

/// Counts for the console's overview page; every query scoped to one tenant.
public struct AdminOverviewRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The tenant's counts, requests counted from `since`.
    public func overview(tenantID: String, since: Date) async throws -> AdminOverview {
        try await database.read { db in
            func count(_ query: SQLQueryString) async throws -> Int {
                try await db.raw(query).first()?.int("n") ?? 0
            }
            var overview = AdminOverview()
            overview.users = try await count("SELECT COUNT(*) AS n FROM users WHERE tenant_id = \(bind: tenantID)")
            overview.integrations = try await count("SELECT COUNT(*) AS n FROM integrations WHERE tenant_id = \(bind: tenantID)")
            overview.connections = try await count("SELECT COUNT(*) AS n FROM connections WHERE tenant_id = \(bind: tenantID)")
            overview.credentials = try await count(
                "SELECT COUNT(*) AS n FROM credentials WHERE tenant_id = \(bind: tenantID) AND status <> \(bind: CredentialStatus.revoked.rawValue)"
            )
            overview.apps = try await count(
                "SELECT COUNT(*) AS n FROM apps WHERE tenant_id = \(bind: tenantID) AND kind = \(bind: App.Kind.external.rawValue)"
            )
            overview.requests = try await count(
                "SELECT COUNT(*) AS n FROM request_log WHERE tenant_id = \(bind: tenantID) AND ts >= \(bind: since.ms)"
            )
            overview.deadDeliveries = try await count(
                "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE tenant_id = \(bind: tenantID) AND status = 'dead'"
            )
            overview.needingReauth = try await db.raw(
                """
                SELECT i.key AS key, i.provider AS provider, i.display_name AS display_name, COUNT(*) AS n
                FROM credentials c JOIN connections co ON co.id = c.connection_id JOIN integrations i ON i.id = co.integration_id
                WHERE c.tenant_id = \(bind: tenantID) AND c.status = \(bind: CredentialStatus.needsReauth.rawValue)
                GROUP BY i.key, i.provider, i.display_name ORDER BY i.key
                """
            ).all().map { row in
                AdminOverview.NeedingReauth(
                    integrationKey: try row.string("key"),
                    provider: try row.string("provider"),
                    displayName: try row.optionalString("display_name"),
                    count: try row.int("n")
                )
            }
            return overview
        }
    }
}
