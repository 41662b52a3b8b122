public import Foundation
public import LatchkeyCore
import SQLKit

/// The `passkeys` table: the credentials people registered, each with its identity row (method `passkey`,
/// provider `passkey`, subject = credential ID). A passkey is removed through `IdentityRepository.delete` (which
/// refuses the last STRONG identity); the row follows its identity (`ON DELETE CASCADE`).
public struct PasskeyRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Stores a new passkey and its identity in one transaction. A credential already registered is a conflict that
    /// says whose it is.
    public func insert(_ passkey: Passkey, identity: Identity) async throws {
        try await database.transaction { db in
            try await IdentityRepository(database: database).insert(identity, on: db)
            try await db.raw(
                """
                INSERT INTO passkeys (tenant_id, credential_id, user_id, identity_id, user_handle, public_key, sign_count, name,
                  created_at, last_used_at)
                VALUES (\(bind: passkey.tenantID), \(bind: passkey.credentialID), \(bind: passkey.userID), \(bind: passkey.identityID),
                  \(bind: passkey.userHandle), \(bind: passkey.publicKey), \(bind: Int(passkey.signCount)), \(bind: passkey.name),
                  \(bind: passkey.createdAt.ms), \(bind: passkey.lastUsedAt?.ms))
                """
            ).run()
        }
    }

    /// A person's passkeys, oldest first.
    public func passkeys(userID: String, tenantID: String) async throws -> [Passkey] {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM passkeys WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID) ORDER BY created_at, credential_id"
            ).all().map(Self.passkey(from:))
        }
    }

    /// The passkey with `credentialID` in the tenant; nil when nobody of the tenant registered it.
    public func passkey(credentialID: String, tenantID: String) async throws -> Passkey? {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM passkeys WHERE tenant_id = \(bind: tenantID) AND credential_id = \(bind: credentialID)"
            ).first().map(Self.passkey(from:))
        }
    }

    /// One of a person's passkeys, by its identity's id.
    public func passkey(identityID: String, userID: String, tenantID: String) async throws -> Passkey? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT * FROM passkeys WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID)
                  AND identity_id = \(bind: identityID)
                """
            ).first().map(Self.passkey(from:))
        }
    }

    /// The handle a person's authenticators already know them by, if they have a passkey.
    public func userHandle(userID: String, tenantID: String) async throws -> String? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT user_handle FROM passkeys WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID)
                ORDER BY created_at LIMIT 1
                """
            ).first()?.string("user_handle")
        }
    }

    /// Renames one of a person's passkeys (the identity's display name follows); false when they have no such one.
    public func rename(identityID: String, userID: String, tenantID: String, to name: String) async throws -> Bool {
        try await database.transaction { db in
            let renamed = try await db.raw(
                """
                UPDATE passkeys SET name = \(bind: name) WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID)
                  AND identity_id = \(bind: identityID) RETURNING credential_id
                """
            ).all()
            guard !renamed.isEmpty else { return false }
            try await db.raw("UPDATE identities SET display_name = \(bind: name) WHERE id = \(bind: identityID)").run()
            return true
        }
    }

    /// Records a sign-in: the new counter and the time. Only when the stored counter is still `expected`, so that
    /// two sign-ins with one assertion cannot both move it; false when another got there first.
    public func recordUse(credentialID: String, tenantID: String, expected: UInt32, signCount: UInt32, at date: Date) async throws -> Bool {
        try await database.write { db in
            let updated = try await db.raw(
                """
                UPDATE passkeys SET sign_count = \(bind: Int(signCount)), last_used_at = \(bind: date.ms)
                WHERE tenant_id = \(bind: tenantID) AND credential_id = \(bind: credentialID) AND sign_count = \(bind: Int(expected))
                RETURNING credential_id
                """
            ).all()
            return !updated.isEmpty
        }
    }

    static func passkey(from row: any SQLRow) throws -> Passkey {
        Passkey(
            credentialID: try row.string("credential_id"),
            tenantID: try row.string("tenant_id"),
            userID: try row.string("user_id"),
            identityID: try row.string("identity_id"),
            userHandle: try row.string("user_handle"),
            publicKey: try row.data("public_key"),
            signCount: UInt32(clamping: try row.int("sign_count")),
            name: try row.string("name"),
            createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at")
        )
    }
}
