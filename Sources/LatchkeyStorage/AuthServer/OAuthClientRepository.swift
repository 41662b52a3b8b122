public import Foundation
import LatchkeyCore
import SQLKit

/// The authorization server's clients (`oauth_clients`).
public struct OAuthClientRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ client: OAuthClientRecord) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO oauth_clients (id, tenant_id, kind, name, client_uri, logo_uri, redirect_uris, auth_method,
                  application_type, secret_hash, secret_expires_at, created_at, last_used_at)
                VALUES (\(bind: client.id), \(bind: client.tenantID), \(bind: client.kind.rawValue), \(bind: client.name),
                  \(bind: client.clientURI), \(bind: client.logoURI), \(bind: JSONColumn.encode(client.redirectURIs)),
                  \(bind: client.authMethod), \(bind: client.applicationType), \(bind: client.secretHash),
                  \(bind: client.secretExpiresAt?.ms), \(bind: client.createdAt.ms), \(bind: client.lastUsedAt?.ms))
                """
            ).run()
        }
    }

    public func find(id: String) async throws -> OAuthClientRecord? {
        try await database.read { db in
            try await db.raw("SELECT * FROM oauth_clients WHERE id = \(bind: id)").first().map(Self.client(from:))
        }
    }

    /// The clients of a tenant registered by an administrator.
    public func listStatic(tenantID: String) async throws -> [OAuthClientRecord] {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM oauth_clients WHERE tenant_id = \(bind: tenantID) AND kind = 'static' ORDER BY created_at, id"
            ).all().map(Self.client(from:))
        }
    }

    /// Deletes a client registered by an administrator and revokes its grants and tokens, in one transaction; false
    /// when there is none with this id.
    public func deleteStatic(id: String, tenantID: String, now: Date) async throws -> Bool {
        try await database.transaction { db in
            guard
                try await db.raw(
                    "DELETE FROM oauth_clients WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND kind = 'static' RETURNING id"
                ).first() != nil
            else { return false }
            try await db.raw(
                "UPDATE oauth_grants SET revoked_at = \(bind: now.ms) WHERE client_id = \(bind: id) AND revoked_at IS NULL"
            ).run()
            try await db.raw(
                "UPDATE oauth_tokens SET revoked_at = \(bind: now.ms) WHERE client_id = \(bind: id) AND revoked_at IS NULL"
            ).run()
            return true
        }
    }

    /// Marks a client used (a grant or token), so that its registration does not expire.
    public func touch(id: String, at date: Date) async throws {
        try await database.write(invalidatesCaches: false) { db in
            try await db.raw("UPDATE oauth_clients SET last_used_at = \(bind: date.ms) WHERE id = \(bind: id)").run()
        }
    }

    /// Deletes dynamic registrations never used since `cutoff` and holding no grant; returns how many.
    public func purgeUnused(before cutoff: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw(
                """
                DELETE FROM oauth_clients WHERE kind = 'dynamic' AND COALESCE(last_used_at, created_at) < \(bind: cutoff.ms)
                  AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id AND g.revoked_at IS NULL)
                RETURNING id
                """
            ).all().count
        }
    }

    static func client(from row: any SQLRow) throws -> OAuthClientRecord {
        try StorageError.naming(table: "oauth_clients") {
            OAuthClientRecord(
                id: try row.string("id"),
                tenantID: try row.string("tenant_id"),
                kind: OAuthClientRecord.Kind(rawValue: try row.string("kind")) ?? .dynamic,
                name: try row.optionalString("name"),
                clientURI: try row.optionalString("client_uri"),
                logoURI: try row.optionalString("logo_uri"),
                redirectURIs: try row.stringArray("redirect_uris", table: "oauth_clients"),
                authMethod: try row.string("auth_method"),
                applicationType: try row.string("application_type"),
                secretHash: try row.optionalString("secret_hash"),
                secretExpiresAt: try row.optionalDate("secret_expires_at"),
                createdAt: try row.date("created_at"),
                lastUsedAt: try row.optionalDate("last_used_at")
            )
        }
    }
}
