public import Foundation
import LatchkeyCore
import SQLKit

/// What people granted the authorization server's clients (`oauth_grants`). Revoking a grant revokes its tokens in
/// the same transaction.
public struct OAuthGrantRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The person's live grant to this client, updated to these services, scopes and resource, or a new one.
    public func upsert(
        tenantID: String,
        userID: String,
        clientID: String,
        services: [String],
        scopes: [String],
        resource: String,
        now: Date
    ) async throws -> OAuthGrantRecord {
        try await database.transaction { db in
            let serviceText = JSONColumn.encode(services)
            let scopeText = JSONColumn.encode(scopes)
            if let row = try await db.raw(
                """
                UPDATE oauth_grants SET services = \(bind: serviceText), scopes = \(bind: scopeText), resource = \(bind: resource),
                  updated_at = \(bind: now.ms)
                WHERE id = (SELECT id FROM oauth_grants WHERE user_id = \(bind: userID) AND client_id = \(bind: clientID)
                  AND revoked_at IS NULL ORDER BY created_at LIMIT 1)
                RETURNING *
                """
            ).first() {
                return try Self.grant(from: row)
            }
            let id = NewID.make()
            try await db.raw(
                """
                INSERT INTO oauth_grants (id, tenant_id, user_id, client_id, services, scopes, resource, created_at, updated_at)
                VALUES (\(bind: id), \(bind: tenantID), \(bind: userID), \(bind: clientID), \(bind: serviceText), \(bind: scopeText),
                  \(bind: resource), \(bind: now.ms), \(bind: now.ms))
                """
            ).run()
            return OAuthGrantRecord(
                id: id,
                tenantID: tenantID,
                userID: userID,
                clientID: clientID,
                services: services,
                scopes: scopes,
                resource: resource,
                createdAt: now,
                updatedAt: now
            )
        }
    }

    public func find(id: String) async throws -> OAuthGrantRecord? {
        try await database.read { db in
            try await db.raw("SELECT * FROM oauth_grants WHERE id = \(bind: id)").first().map { try Self.grant(from: $0) }
        }
    }

    /// The person's live grants, newest first.
    public func list(userID: String) async throws -> [OAuthGrantRecord] {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM oauth_grants WHERE user_id = \(bind: userID) AND revoked_at IS NULL ORDER BY created_at DESC, id"
            ).all().map { try Self.grant(from: $0) }
        }
    }

    /// Changes the services of one of the person's live grants; false when there is no such grant.
    public func setServices(id: String, userID: String, services: [String], now: Date) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE oauth_grants SET services = \(bind: JSONColumn.encode(services)), updated_at = \(bind: now.ms)
                WHERE id = \(bind: id) AND user_id = \(bind: userID) AND revoked_at IS NULL RETURNING id
                """
            ).first() != nil
        }
    }

    /// Revokes one of the person's grants and its tokens; false when there is no such live grant.
    public func revoke(id: String, userID: String, now: Date) async throws -> Bool {
        try await database.transaction { db in
            guard
                try await db.raw(
                    """
                    UPDATE oauth_grants SET revoked_at = \(bind: now.ms)
                    WHERE id = \(bind: id) AND user_id = \(bind: userID) AND revoked_at IS NULL RETURNING id
                    """
                ).first() != nil
            else { return false }
            try await db.raw(
                "UPDATE oauth_tokens SET revoked_at = \(bind: now.ms) WHERE grant_id = \(bind: id) AND revoked_at IS NULL"
            ).run()
            return true
        }
    }

    /// Revokes every live grant of the person and their tokens (sign-out); returns the revoked grants' ids.
    public func revokeAll(userID: String, now: Date) async throws -> [String] {
        try await database.transaction { db in
            let ids = try await db.raw(
                "UPDATE oauth_grants SET revoked_at = \(bind: now.ms) WHERE user_id = \(bind: userID) AND revoked_at IS NULL RETURNING id"
            ).all().map { try $0.string("id") }
            try await db.raw(
                "UPDATE oauth_tokens SET revoked_at = \(bind: now.ms) WHERE user_id = \(bind: userID) AND revoked_at IS NULL"
            ).run()
            return ids
        }
    }

    /// Records a use of the grant (a token verified).
    public func touch(id: String, at date: Date) async throws {
        try await database.write(invalidatesCaches: false) { db in
            try await db.raw("UPDATE oauth_grants SET last_used_at = \(bind: date.ms) WHERE id = \(bind: id)").run()
        }
    }

    static func grant(from row: any SQLRow, prefix: String = "") throws -> OAuthGrantRecord {
        try StorageError.naming(table: "oauth_grants") {
            OAuthGrantRecord(
                id: try row.string(prefix + "id"),
                tenantID: try row.string(prefix + "tenant_id"),
                userID: try row.string(prefix + "user_id"),
                clientID: try row.string(prefix + "client_id"),
                services: try row.stringArray(prefix + "services", table: "oauth_grants"),
                scopes: try row.stringArray(prefix + "scopes", table: "oauth_grants"),
                resource: try row.string(prefix + "resource"),
                createdAt: try row.date(prefix + "created_at"),
                updatedAt: try row.date(prefix + "updated_at"),
                lastUsedAt: try row.optionalDate(prefix + "last_used_at"),
                revokedAt: try row.optionalDate(prefix + "revoked_at")
            )
        }
    }
}
