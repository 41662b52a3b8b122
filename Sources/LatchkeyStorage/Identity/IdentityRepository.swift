public import Foundation
public import LatchkeyCore
public import SQLKit

/// The `identities` table: every way a User signs in or is known (password, single sign-on, social, passkey, email
/// code, an app's user). One `(tenant, provider, subject)` belongs to one person.
public struct IdentityRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Adds an identity to a person. A subject already linked to someone of the tenant is a conflict that says whether
    /// it is this person or another.
    public func insert(_ identity: Identity) async throws {
        try await database.write { db in try await insert(identity, on: db) }
    }

    /// `insert` inside a caller's transaction.
    public func insert(_ identity: Identity, on db: any SQLDatabase) async throws {
        do {
            try await db.raw(
                """
                INSERT INTO identities (id, tenant_id, user_id, method, provider, subject, display_name, email, app_id, created_at,
                  last_used_at)
                VALUES (\(bind: identity.id), \(bind: identity.tenantID), \(bind: identity.userID), \(bind: identity.method.rawValue),
                  \(bind: identity.provider), \(bind: identity.subject), \(bind: identity.displayName), \(bind: identity.email),
                  \(bind: identity.appID), \(bind: identity.createdAt.ms), \(bind: identity.lastUsedAt?.ms))
                """
            ).run()
        } catch  where Database.isUniqueViolation(error) {
            let owner = try await db.raw(
                """
                SELECT user_id FROM identities WHERE tenant_id = \(bind: identity.tenantID) AND provider = \(bind: identity.provider)
                  AND subject = \(bind: identity.subject)
                """
            ).first()?.string("user_id")
            throw owner == identity.userID
                ? LatchkeyError.conflict("This \(identity.method.displayName.lowercased()) is already linked to your account.")
                : LatchkeyError.conflict("This \(identity.method.displayName.lowercased()) is already linked to another person.")
        }
    }

    /// The identity `provider`/`subject` of the tenant, if someone has it.
    public func identity(provider: String, subject: String, tenantID: String) async throws -> Identity? {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM identities WHERE tenant_id = \(bind: tenantID) AND provider = \(bind: provider) AND subject = \(bind: subject)"
            ).first().map(Self.identity(from:))
        }
    }

    /// One identity by id, within the tenant.
    public func identity(id: String, tenantID: String) async throws -> Identity? {
        try await database.read { db in
            try await db.raw("SELECT * FROM identities WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)").first().map(Self.identity(from:))
        }
    }

    /// A person's identities, oldest first (the first is their primary one).
    public func identities(userID: String, tenantID: String) async throws -> [Identity] {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM identities WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID) ORDER BY created_at, id"
            ).all().map(Self.identity(from:))
        }
    }

    /// Records a sign-in or use of the identity.
    public func touch(id: String, at date: Date) async throws {
        try await database.write { db in
            try await db.raw("UPDATE identities SET last_used_at = \(bind: date.ms) WHERE id = \(bind: id)").run()
        }
    }

    /// Removes one of a person's identities; refused (409) when it is their last STRONG one, so that nobody locks
    /// themselves out. Returns the removed identity.
    public func delete(id: String, userID: String, tenantID: String) async throws -> Identity {
        try await database.transaction { db in
            // Lock the person's rows on PostgreSQL so that two removals cannot each leave "the other" one.
            let rows = try await db.raw(
                """
                SELECT * FROM identities WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID)
                ORDER BY id\(unsafeRaw: database.forUpdate)
                """
            ).all().map(Self.identity(from:))
            guard let target = rows.first(where: { $0.id == id }) else { throw LatchkeyError.notFound("identity") }
            if target.strength == .strong, !rows.contains(where: { $0.id != id && $0.strength == .strong }) {
                throw LatchkeyError.conflict(Self.lastWayToSignIn)
            }
            try await db.raw("DELETE FROM identities WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
            return target
        }
    }

    /// Why the last STRONG identity of a person stays.
    public static let lastWayToSignIn =
        "This is your last way to sign in. Add another (a passkey, single sign-on or a password) before removing it."

    /// Adds the password identity of a person who has (or now has) a password; nothing when it exists.
    static func insertPassword(userID: String, tenantID: String, email: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO identities (id, tenant_id, user_id, method, provider, subject, display_name, email, created_at)
            VALUES (\(bind: "idn_" + userID), \(bind: tenantID), \(bind: userID), 'password', 'password', \(bind: userID), \(bind: email),
              \(bind: email), \(bind: now.ms))
            ON CONFLICT (tenant_id, provider, subject) DO NOTHING
            """
        ).run()
    }

    static func identity(from row: any SQLRow) throws -> Identity {
        let method = try row.string("method")
        guard let parsed = SignInMethod(rawValue: method) else {
            throw DatabaseError(description: "identity \(try row.string("id")) has an unknown method \(method)")
        }
        return Identity(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            userID: try row.string("user_id"),
            method: parsed,
            provider: try row.string("provider"),
            subject: try row.string("subject"),
            displayName: try row.optionalString("display_name"),
            email: try row.optionalString("email"),
            appID: try row.optionalString("app_id"),
            createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at")
        )
    }
}
