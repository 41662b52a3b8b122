public import Foundation
public import LatchkeyCore
public import SQLKit

/// Console users and the one-time setup tokens that create the first admin.
public struct UserRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func adminExists(tenantID: String) async throws -> Bool {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM users WHERE tenant_id = \(bind: tenantID) AND role = 'admin'").first()?.int("n") ?? 0 > 0
        }
    }

    public func insert(_ user: User, passwordHash: String?, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO users (id, tenant_id, email, display_name, password_hash, is_admin, role, created_at)
            VALUES (\(bind: user.id), \(bind: user.tenantID), \(bind: user.email), \(bind: user.displayName), \(bind: passwordHash),
              \(bind: user.isAdmin ? 1 : 0), \(bind: user.role.rawValue), \(bind: user.createdAt.ms))
            """
        ).run()
        if passwordHash != nil {
            try await IdentityRepository.insertPassword(userID: user.id, tenantID: user.tenantID, email: user.email, now: user.createdAt, on: db)
        }
    }

    public func user(email: String, tenantID: String) async throws -> (user: User, passwordHash: String?)? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND email = \(bind: email)").first() else {
                return nil
            }
            return (try Self.user(from: row), try row.optionalString("password_hash"))
        }
    }

    public func user(id: String, tenantID: String) async throws -> User? {
        try await database.read { db in
            try await db.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)").first().map(Self.user(from:))
        }
    }

    public func list(tenantID: String) async throws -> [User] {
        try await database.read { db in
            try await db.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) ORDER BY email").all().map(Self.user(from:))
        }
    }

    static func user(from row: any SQLRow) throws -> User {
        User(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            email: try row.string("email"),
            displayName: try row.string("display_name"),
            role: try Self.role(row),
            createdAt: try row.date("created_at")
        )
    }

    /// The stored role; an unknown word (written by a newer binary) reads as the least it could mean.
    static func role(_ row: any SQLRow) throws -> Role {
        Role(rawValue: try row.string("role")) ?? .member
    }

    // MARK: Setup tokens

    /// Stores a new setup token and deletes the tenant's earlier ones: one live setup link at a time.
    public func replaceSetupToken(hash: String, tenantID: String, now: Date, expiresAt: Date) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM setup_tokens WHERE tenant_id = \(bind: tenantID)").run()
            try await db.raw(
                """
                INSERT INTO setup_tokens (token_hash, tenant_id, created_at, expires_at)
                VALUES (\(bind: hash), \(bind: tenantID), \(bind: now.ms), \(bind: expiresAt.ms))
                """
            ).run()
        }
    }

    /// True when `hash` names an unexpired setup token of the tenant.
    public func setupTokenValid(hash: String, tenantID: String, now: Date) async throws -> Bool {
        try await database.read { db in
            try await db.raw(
                "SELECT token_hash FROM setup_tokens WHERE token_hash = \(bind: hash) AND tenant_id = \(bind: tenantID) AND expires_at > \(bind: now.ms)"
            ).first() != nil
        }
    }

    /// Deletes the token; false when it was already used (so two racing requests cannot both succeed).
    public func consumeSetupToken(hash: String, tenantID: String, now: Date, on db: any SQLDatabase) async throws -> Bool {
        let row = try await db.raw(
            """
            DELETE FROM setup_tokens WHERE token_hash = \(bind: hash) AND tenant_id = \(bind: tenantID) AND expires_at > \(bind: now.ms)
            RETURNING token_hash
            """
        ).first()
        guard row != nil else { return false }
        try await db.raw("DELETE FROM setup_tokens WHERE tenant_id = \(bind: tenantID)").run()
        return true
    }
}
