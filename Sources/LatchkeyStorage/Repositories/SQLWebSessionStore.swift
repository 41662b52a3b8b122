public import Foundation
public import LatchkeyCore
import SQLKit

/// Console sign-in sessions in the `web_sessions` table.
public struct SQLWebSessionStore: WebSessionStore {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ record: WebSessionRecord) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO web_sessions (id_hash, tenant_id, user_id, created_at, expires_at, last_seen_at, ip, user_agent, method,
                  strength, identity_id, public_id)
                VALUES (\(bind: record.idHash), \(bind: record.tenantID), \(bind: record.userID), \(bind: record.createdAt.ms),
                  \(bind: record.expiresAt.ms), \(bind: record.lastSeenAt.ms), \(bind: record.ip), \(bind: record.userAgent),
                  \(bind: record.method.rawValue), \(bind: record.strength.rawValue), \(bind: record.identityID),
                  \(bind: record.publicID))
                """
            ).run()
        }
    }

    public func find(idHash: String) async throws -> (record: WebSessionRecord, user: User)? {
        try await database.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT s.created_at AS s_created, s.expires_at AS s_expires, s.last_seen_at AS s_seen, s.ip AS s_ip,
                      s.user_agent AS s_agent, s.method AS s_method, s.strength AS s_strength, s.identity_id AS s_identity, s.public_id AS s_public, u.*
                    FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = \(bind: idHash)
                    """
                ).first()
            else { return nil }
            let user = try UserRepository.user(from: row)
            return (try Self.record(from: row, idHash: idHash, user: user), user)
        }
    }

    public func touch(idHash: String, at date: Date) async throws {
        try await database.write { db in
            try await db.raw("UPDATE web_sessions SET last_seen_at = \(bind: date.ms) WHERE id_hash = \(bind: idHash)").run()
        }
    }

    public func delete(idHash: String) async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM web_sessions WHERE id_hash = \(bind: idHash)").run()
        }
    }

    public func sessions(userID: String, tenantID: String) async throws -> [WebSessionRecord] {
        try await database.read { db in
            let rows = try await db.raw(
                """
                SELECT s.id_hash, s.created_at AS s_created, s.expires_at AS s_expires, s.last_seen_at AS s_seen, s.ip AS s_ip,
                  s.user_agent AS s_agent, s.method AS s_method, s.strength AS s_strength, s.identity_id AS s_identity,
                  s.public_id AS s_public, u.*
                FROM web_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.user_id = \(bind: userID) AND s.tenant_id = \(bind: tenantID)
                ORDER BY s.created_at DESC, s.public_id
                """
            ).all()
            return try rows.map { row in
                try Self.record(from: row, idHash: try row.string("id_hash"), user: try UserRepository.user(from: row))
            }
        }
    }

    public func delete(publicID: String, userID: String, tenantID: String) async throws -> Bool {
        guard !publicID.isEmpty else { return false }
        return try await database.write { db in
            try await db.raw(
                """
                DELETE FROM web_sessions WHERE public_id = \(bind: publicID) AND user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)
                RETURNING id_hash
                """
            ).all().count > 0
        }
    }

    public func deleteAll(userID: String, tenantID: String) async throws -> Int {
        try await database.write { db in
            try await db.raw(
                "DELETE FROM web_sessions WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) RETURNING id_hash"
            ).all().count
        }
    }

    private static func record(from row: any SQLRow, idHash: String, user: User) throws -> WebSessionRecord {
        WebSessionRecord(
            idHash: idHash,
            tenantID: user.tenantID,
            userID: user.id,
            createdAt: try row.date("s_created"),
            expiresAt: try row.date("s_expires"),
            lastSeenAt: try row.date("s_seen"),
            ip: try row.optionalString("s_ip"),
            userAgent: try row.optionalString("s_agent"),
            method: SignInMethod(rawValue: try row.string("s_method")) ?? .password,
            // Anything but a known strength reads as WEAK: a damaged row never grants more.
            strength: IdentityStrength(rawValue: try row.string("s_strength")) ?? .weak,
            identityID: try row.optionalString("s_identity"),
            publicID: try row.optionalString("s_public") ?? ""
        )
    }
}
