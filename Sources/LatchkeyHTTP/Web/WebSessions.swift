public import Foundation
public import LatchkeyCore

/// Signed-in browser sessions of console users, kept in a `WebSessionStore` (the database) so that every instance
/// knows them. The cookie holds a 256-bit random id; the store holds only its HMAC.
public struct WebSessions: Sendable {
    let store: any WebSessionStore
    let keyring: Keyring
    let clock: any LatchkeyClock
    /// A session ends this long after sign-in, however active it is (`LATCHKEY_SESSION_LIFETIME`).
    public var absoluteLifetime: Duration = .seconds(12 * 3600)
    /// A session ends after this long without a request (`LATCHKEY_SESSION_IDLE`).
    public var idleLifetime: Duration = .seconds(2 * 3600)

    public init(
        store: any WebSessionStore,
        keyring: Keyring,
        clock: any LatchkeyClock,
        idleLifetime: Duration = .seconds(2 * 3600),
        absoluteLifetime: Duration = .seconds(12 * 3600)
    ) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
        self.idleLifetime = idleLifetime
        self.absoluteLifetime = absoluteLifetime
    }

    /// A signed-in session: who, and since when.
    public struct Session: Sendable, Equatable {
        public var user: User
        public var createdAt: Date
        public var expiresAt: Date
        /// How the person signed in.
        public var method: SignInMethod = .password
        /// STRONG sessions may change things; WEAK ones (an app vouched for the person) may only look.
        public var strength: IdentityStrength = .strong
        /// The identity signed in with, when the method has one.
        public var identityID: String? = nil
        /// The id the person's list of sessions shows (`ses_…`).
        public var publicID: String = ""
    }

    /// Starts a session for `user`, signed in by `method` (with `identityID` when the method has one row per
    /// account); returns the cookie value.
    public func create(
        user: User,
        method: SignInMethod = .password,
        identityID: String? = nil,
        ip: String?,
        userAgent: String?
    ) async throws -> String {
        let token = SecureRandom.token()
        let now = clock.now
        let expires = now.addingTimeInterval(absoluteLifetime.seconds)
        try await store.insert(
            WebSessionRecord(
                idHash: hash(token),
                tenantID: user.tenantID,
                userID: user.id,
                createdAt: now,
                expiresAt: expires,
                lastSeenAt: now,
                ip: ip,
                userAgent: userAgent.map { String($0.prefix(300)) },
                method: method,
                identityID: identityID,
                publicID: SecureRandom.token(prefix: "ses_", byteCount: 12)
            )
        )
        return token
    }

    /// The session behind a cookie value, if it is still valid. Marks it as seen at most once a minute.
    public func find(_ token: String) async throws -> Session? {
        guard token.count >= 20, token.count <= 100 else { return nil }
        let now = clock.now
        let key = hash(token)
        guard let (record, user) = try await store.find(idHash: key) else { return nil }
        let session = Session(
            user: user,
            createdAt: record.createdAt,
            expiresAt: record.expiresAt,
            method: record.method,
            strength: record.strength,
            identityID: record.identityID,
            publicID: record.publicID
        )
        guard isLive(record, at: now) else {
            try await delete(token)
            return nil
        }
        if now.timeIntervalSince(record.lastSeenAt) > 60 {
            try await store.touch(idHash: key, at: now)
        }
        return session
    }

    /// Ends a session (sign-out).
    public func delete(_ token: String) async throws {
        try await store.delete(idHash: hash(token))
    }

    /// One of the person's sessions as their list of sessions shows it.
    public struct Listed: Sendable, Equatable {
        public var record: WebSessionRecord
        /// The session of the browser asking.
        public var isCurrent: Bool
    }

    /// The person's sessions that have not ended, newest first; `current` (the asking browser's cookie) is marked.
    public func list(user: User, current token: String?) async throws -> [Listed] {
        let now = clock.now
        let currentHash = token.map(hash)
        return try await store.sessions(userID: user.id, tenantID: user.tenantID)
            .filter { isLive($0, at: now) }
            .map { Listed(record: $0, isCurrent: $0.idHash == currentHash) }
    }

    /// Ends the person's session with this public id; false when they have no such session.
    public func end(publicID: String, user: User) async throws -> Bool {
        try await store.delete(publicID: publicID, userID: user.id, tenantID: user.tenantID)
    }

    /// Ends every session of the person, the asking browser's included; returns how many were still going.
    public func endAll(user: User) async throws -> Int {
        let live = try await list(user: user, current: nil).count
        _ = try await store.deleteAll(userID: user.id, tenantID: user.tenantID)
        return live
    }

    /// Whether a session is within both its absolute lifetime and its idle limit at `now`. A lifetime shortened
    /// since the session began applies to it too.
    func isLive(_ record: WebSessionRecord, at now: Date) -> Bool {
        record.expiresAt > now && now.timeIntervalSince(record.createdAt) < absoluteLifetime.seconds
            && now.timeIntervalSince(record.lastSeenAt) < idleLifetime.seconds
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
