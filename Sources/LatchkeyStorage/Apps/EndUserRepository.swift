import Foundation
public import LatchkeyCore
import SQLKit

/// One end user as listed: who, and how many connections and credentials (by status) they have.
public struct EndUserSummary: Sendable {
    public var endUser: EndUser
    /// Integrations with at least one credential of theirs.
    public var connections: Int
    public var credentials: Int
    public var active: Int
    public var expired: Int
    public var needsReauth: Int
}

/// A page of end users.
public struct EndUserPage: Sendable {
    public var items: [EndUserSummary]
    public var nextCursor: String?
}

/// End users of an app: listing with counts, lookups, and the rows their deletion removes.
public struct EndUserRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The end users of `appID`, oldest first, with counts.
    public func list(appID: String, tenantID: String, limit: Int, cursor: String?) async throws -> EndUserPage {
        try await database.read { db in
            var query = SQLQueryString(
                """
                SELECT e.*,
                  (SELECT COUNT(DISTINCT c.connection_id) FROM credentials c WHERE c.end_user_id = e.id) AS n_connections,
                  (SELECT COUNT(*) FROM credentials c WHERE c.end_user_id = e.id) AS n_credentials,
                  (SELECT COUNT(*) FROM credentials c WHERE c.end_user_id = e.id AND c.status = 'active') AS n_active,
                  (SELECT COUNT(*) FROM credentials c WHERE c.end_user_id = e.id AND c.status = 'expired') AS n_expired,
                  (SELECT COUNT(*) FROM credentials c WHERE c.end_user_id = e.id AND c.status = 'needs_reauth') AS n_reauth
                FROM end_users e WHERE e.app_id = \(bind: appID) AND e.tenant_id = \(bind: tenantID)
                """
            )
            if let cursor {
                let (createdAt, id) = try ListCursor.decode(cursor)
                query.appendInterpolation(unsafeRaw: " AND (e.created_at > ")
                query.appendInterpolation(bind: createdAt)
                query.appendInterpolation(unsafeRaw: " OR (e.created_at = ")
                query.appendInterpolation(bind: createdAt)
                query.appendInterpolation(unsafeRaw: " AND e.id > ")
                query.appendInterpolation(bind: id)
                query.appendInterpolation(unsafeRaw: "))")
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY e.created_at, e.id LIMIT \(limit + 1)")
            var rows = try await db.raw(query).all()
            var next: String?
            if rows.count > limit {
                rows.removeLast()
                if let last = rows.last { next = ListCursor.encode(createdAt: try last.date("created_at"), id: try last.string("id")) }
            }
            let items = try rows.map { row in
                EndUserSummary(
                    endUser: try Self.endUser(from: row),
                    connections: try row.int("n_connections"),
                    credentials: try row.int("n_credentials"),
                    active: try row.int("n_active"),
                    expired: try row.int("n_expired"),
                    needsReauth: try row.int("n_reauth")
                )
            }
            return EndUserPage(items: items, nextCursor: next)
        }
    }

    /// How many end users `appID` has.
    public func count(appID: String, tenantID: String) async throws -> Int {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM end_users WHERE app_id = \(bind: appID) AND tenant_id = \(bind: tenantID)").first()?.int("n")
                ?? 0
        }
    }

    /// The end user `externalID` of `appID`, if it exists.
    public func find(appID: String, externalID: String, tenantID: String) async throws -> EndUser? {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM end_users WHERE app_id = \(bind: appID) AND external_id = \(bind: externalID) AND tenant_id = \(bind: tenantID)"
            ).first().map(Self.endUser(from:))
        }
    }

    /// Ids of every credential the end user owns.
    public func credentialIDs(endUserID: String, tenantID: String) async throws -> [String] {
        try await database.read { db in
            try await db.raw("SELECT id FROM credentials WHERE end_user_id = \(bind: endUserID) AND tenant_id = \(bind: tenantID) ORDER BY id")
                .all().map { try $0.string("id") }
        }
    }

    /// Ids of every credential under the app's connections (shared and per user).
    public func credentialIDs(appID: String, tenantID: String) async throws -> [String] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT c.id FROM credentials c JOIN connections n ON n.id = c.connection_id
                WHERE n.app_id = \(bind: appID) AND c.tenant_id = \(bind: tenantID) ORDER BY c.id
                """
            ).all().map { try $0.string("id") }
        }
    }

    /// Sets the name and email the app gave (nil leaves a value as it is).
    func updateProfile(id: String, displayName: String?, email: String?, on db: any SQLDatabase) async throws {
        guard displayName != nil || email != nil else { return }
        try await db.raw(
            """
            UPDATE end_users SET display_name = COALESCE(\(bind: displayName), display_name), email = COALESCE(\(bind: email), email)
            WHERE id = \(bind: id)
            """
        ).run()
    }

    /// Removes the end user and what is left of theirs (credentials, connect sessions).
    func delete(id: String, tenantID: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("DELETE FROM credentials WHERE end_user_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM connect_sessions WHERE end_user_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM app_connect_sessions WHERE end_user_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        return try await db.raw("DELETE FROM end_users WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) RETURNING id").first() != nil
    }

    static func endUser(from row: any SQLRow) throws -> EndUser {
        try DirectoryRepository.endUser(from: row)
    }
}
