public import Foundation
public import LatchkeyCore
public import SQLKit

/// Tenant admin API keys, looked up by HMAC in a unique index.
public struct AdminKeyRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ key: AdminKey, hash: String, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO admin_keys (id, tenant_id, name, key_hash, prefix, created_at, last_used_at, revoked_at, role)
            VALUES (\(bind: key.id), \(bind: key.tenantID), \(bind: key.name), \(bind: hash), \(bind: key.prefix), \(bind: key.createdAt.ms), NULL, NULL,
              \(bind: key.role.rawValue))
            """
        ).run()
    }

    /// The unrevoked key with this HMAC.
    /// On every request (through `KeyCache`): does not wait on an unreachable database (degraded mode).
    public func find(hash: String) async throws -> AdminKey? {
        try await database.readPromptly { db in
            try await db.raw("SELECT * FROM admin_keys WHERE key_hash = \(bind: hash) AND revoked_at IS NULL").first().map(Self.key(from:))
        }
    }

    public func list(tenantID: String) async throws -> [AdminKey] {
        try await database.read { db in
            try await db.raw("SELECT * FROM admin_keys WHERE tenant_id = \(bind: tenantID) ORDER BY created_at, id").all().map(Self.key(from:))
        }
    }

    public func revoke(id: String, tenantID: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                "UPDATE admin_keys SET revoked_at = \(bind: now.ms) WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND revoked_at IS NULL RETURNING id"
            ).first() != nil
        }
    }

    static func key(from row: any SQLRow) throws -> AdminKey {
        AdminKey(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            name: try row.string("name"),
            prefix: try row.string("prefix"),
            createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"),
            revokedAt: try row.optionalDate("revoked_at"),
            // An unknown word (written by a newer binary) reads as the role that can change nothing.
            role: Role(rawValue: try row.string("role")).map { $0 == .member ? .auditor : $0 } ?? .auditor
        )
    }
}
