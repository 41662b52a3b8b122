import Foundation
import LatchkeyCore
import SQLKit

extension UserRepository {
    /// The tenant's administrators, locked for the rest of the transaction on PostgreSQL so that two changes cannot
    /// both remove "the other" administrator.
    func lockedAdminIDs(tenantID: String, on db: any SQLDatabase) async throws -> [String] {
        try await db.raw(
            "SELECT id FROM users WHERE tenant_id = \(bind: tenantID) AND role = 'admin' ORDER BY id\(unsafeRaw: database.forUpdate)"
        ).all().map { try $0.string("id") }
    }

    func user(id: String, tenantID: String, on db: any SQLDatabase) async throws -> User? {
        try await db.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)").first().map(Self.user(from:))
    }

    func setPasswordHash(_ hash: String, userID: String, tenantID: String, now: Date, on db: any SQLDatabase) async throws {
        let row = try await db.raw(
            "UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: userID) AND tenant_id = \(bind: tenantID) RETURNING email"
        ).first()
        if let email = try row?.string("email") {
            try await IdentityRepository.insertPassword(userID: userID, tenantID: tenantID, email: email, now: now, on: db)
        }
    }

    func setRole(_ role: Role, userID: String, tenantID: String, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE users SET role = \(bind: role.rawValue), is_admin = \(bind: role == .admin ? 1 : 0)
            WHERE id = \(bind: userID) AND tenant_id = \(bind: tenantID)
            """
        ).run()
    }

    /// Ends the person's browser sessions, all but the one whose id hash is `keeping`; returns how many ended.
    @discardableResult
    func endSessions(userID: String, keeping: String?, on db: any SQLDatabase) async throws -> Int {
        try await db.raw(
            "DELETE FROM web_sessions WHERE user_id = \(bind: userID) AND id_hash <> \(bind: keeping ?? "") RETURNING id_hash"
        ).all().count
    }

    /// Deletes the person: their sessions and identities, the grants they gave the authorization server's clients with those grants'
    /// codes and tokens, and the user row. What they connected stays with the tenant.
    func delete(userID: String, tenantID: String, on db: any SQLDatabase) async throws {
        let grants = SQLQueryString("SELECT id FROM oauth_grants WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)")
        try await db.raw("DELETE FROM oauth_tokens WHERE grant_id IN (\(grants))").run()
        try await db.raw("DELETE FROM oauth_codes WHERE grant_id IN (\(grants))").run()
        try await db.raw("DELETE FROM oauth_grants WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
        try await endSessions(userID: userID, keeping: nil, on: db)
        try await db.raw("DELETE FROM identities WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM totp_challenges WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("UPDATE email_codes SET user_id = NULL, code_hash = NULL WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)")
            .run()
        try await db.raw("DELETE FROM users WHERE id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
    }
}
