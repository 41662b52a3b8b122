public import Foundation
public import LatchkeyCore
import SQLKit

/// Signed-in browser sessions of console users, kept in the database so that every instance knows them. The
/// cookie holds a 256-bit random id; the table holds only its HMAC.
public struct WebSessionStore: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any LatchkeyClock
    /// A session ends this long after sign-in, however active it is.
    public var absoluteLifetime: Duration = .seconds(12 * 3600)
    /// A session ends after this long without a request.
    public var idleLifetime: Duration = .seconds(2 * 3600)

    public init(database: Database, keyring: Keyring, clock: any LatchkeyClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    /// A signed-in session: who, and since when.
    public struct Session: Sendable, Equatable {
        public var user: User
        public var createdAt: Date
        public var expiresAt: Date
    }

    /// Starts a session for `user`; returns the cookie value.
    public func create(user: User, ip: String?, userAgent: String?) async throws -> String {
        let token = SecureRandom.token()
        let now = clock.now
        let expires = now.addingTimeInterval(absoluteLifetime.seconds)
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO web_sessions (id_hash, tenant_id, user_id, created_at, expires_at, last_seen_at, ip, user_agent)
                VALUES (\(bind: hash(token)), \(bind: user.tenantID), \(bind: user.id), \(bind: now.ms), \(bind: expires.ms), \(bind: now.ms),
                  \(bind: ip), \(bind: userAgent.map { String($0.prefix(300)) }))
                """
            ).run()
        }
        return token
    }

    /// The session behind a cookie value, if it is still valid. Marks it as seen at most once a minute.
    public func find(_ token: String) async throws -> Session? {
        guard token.count >= 20, token.count <= 100 else { return nil }
        let now = clock.now
        let key = hash(token)
        let found = try await database.read { db -> (Session, Date)? in
            guard
                let row = try await db.raw(
                    """
                    SELECT s.created_at AS s_created, s.expires_at AS s_expires, s.last_seen_at AS s_seen, u.*
                    FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = \(bind: key)
                    """
                ).first()
            else { return nil }
            let session = Session(
                user: try UserRepository.user(from: row),
                createdAt: try row.date("s_created"),
                expiresAt: try row.date("s_expires")
            )
            return (session, try row.date("s_seen"))
        }
        guard let (session, lastSeen) = found else { return nil }
        guard session.expiresAt > now, now.timeIntervalSince(lastSeen) < idleLifetime.seconds else {
            try await delete(token)
            return nil
        }
        if now.timeIntervalSince(lastSeen) > 60 {
            try await database.write { db in
                try await db.raw("UPDATE web_sessions SET last_seen_at = \(bind: now.ms) WHERE id_hash = \(bind: key)").run()
            }
        }
        return session
    }

    /// Ends a session (sign-out).
    public func delete(_ token: String) async throws {
        let key = hash(token)
        try await database.write { db in
            try await db.raw("DELETE FROM web_sessions WHERE id_hash = \(bind: key)").run()
        }
    }

    /// A value derived from the session for forms: it proves a post came from a page this session rendered.
    public func csrfToken(for token: String) -> String {
        String(keyring.mac(token, purpose: "csrf").prefix(43))
    }

    /// A value derived from a browser id, used to bind connect flows and anonymous forms to one browser.
    public func browserBinding(_ browserID: String, purpose: String) -> String {
        keyring.mac(browserID, purpose: purpose)
    }

    func hash(_ token: String) -> String { keyring.mac(token, purpose: "web-session") }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval {
        let (s, attoseconds) = components
        return TimeInterval(s) + TimeInterval(attoseconds) / 1e18
    }
}
