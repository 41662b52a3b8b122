public import Foundation
public import LatchkeyCore
import SQLKit

/// A person's TOTP secret (table `totp_secrets`, sealed with the keyring, bound to the person and the row) and the
/// half-finished password sign-ins waiting for a code (table `totp_challenges`, stored by HMAC, bound to the browser).
public struct TwoFactorSecrets: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any LatchkeyClock
    /// How long a secret shown for enrolment stays offered before a new one replaces it.
    public var enrolmentLifetime: TimeInterval = 900
    /// How long a password sign-in waits for its code.
    public var challengeLifetime: TimeInterval = 300
    /// Wrong codes a waiting sign-in survives.
    public var maximumGuesses = 5

    public init(database: Database, keyring: Keyring, clock: any LatchkeyClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    /// A person's secret: whether it is on, and the time step of the last code accepted.
    public struct Secret: Sendable, Equatable {
        public var secret: [UInt8]
        public var enabled: Bool
        public var lastStep: Int64?
    }

    /// The person's secret, on or waiting to be confirmed; nil when they have none.
    public func secret(userID: String, tenantID: String) async throws -> Secret? {
        try await database.read { db in
            guard
                let row = try await db.raw(
                    "SELECT id, secret, enabled_at, last_step FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)"
                ).first()
            else { return nil }
            let plain = try keyring.open(try row.data("secret"), context: context(id: try row.string("id"), userID: userID, tenantID: tenantID))
            return Secret(
                secret: Array(plain),
                enabled: try row.optionalInt("enabled_at") != nil,
                lastStep: try row.optionalInt("last_step").map(Int64.init)
            )
        }
    }

    /// Whether the person signs in with a second factor.
    public func isEnabled(userID: String, tenantID: String) async throws -> Bool {
        try await database.read { db in
            try await db.raw(
                "SELECT id FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) AND enabled_at IS NOT NULL"
            ).first() != nil
        }
    }

    /// The secret to show for enrolment: the one offered lately if it is not on yet, else `fresh` (stored now).
    /// Nil when the second factor is already on.
    public func enrolmentSecret(userID: String, tenantID: String, fresh: [UInt8]) async throws -> [UInt8]? {
        let now = clock.now
        if let existing = try await secret(userID: userID, tenantID: tenantID) {
            if existing.enabled { return nil }
            if let created = try await createdAt(userID: userID, tenantID: tenantID), now.timeIntervalSince(created) < enrolmentLifetime {
                return existing.secret
            }
        }
        let id = NewID.make()
        let sealed = try keyring.seal(Data(fresh), context: context(id: id, userID: userID, tenantID: tenantID))
        let version = keyring.activeVersion
        try await database.transaction { db in
            try await db.raw("DELETE FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) AND enabled_at IS NULL")
                .run()
            try await db.raw(
                """
                INSERT INTO totp_secrets (id, tenant_id, user_id, secret, key_version, created_at)
                VALUES (\(bind: id), \(bind: tenantID), \(bind: userID), \(bind: sealed), \(bind: version), \(bind: now.ms))
                """
            ).run()
        }
        return fresh
    }

    /// Turns the offered secret on, recording `step` as used. False when there is nothing to turn on.
    public func enable(userID: String, tenantID: String, step: Int64) async throws -> Bool {
        let now = clock.now
        return try await database.write { db in
            try await db.raw(
                """
                UPDATE totp_secrets SET enabled_at = \(bind: now.ms), last_step = \(bind: step)
                WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) AND enabled_at IS NULL RETURNING id
                """
            ).first() != nil
        }
    }

    /// Records the code of `step` as used; false when that step or a later one was used already (a replay).
    public func use(userID: String, tenantID: String, step: Int64) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE totp_secrets SET last_step = \(bind: step) WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)
                  AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < \(bind: step)) RETURNING id
                """
            ).first() != nil
        }
    }

    /// Turns the second factor off (the secret is deleted).
    public func disable(userID: String, tenantID: String) async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
        }
    }

    /// A password sign-in waiting for its code.
    public struct Challenge: Sendable, Equatable {
        public var userID: String
        public var tenantID: String
        public var next: String
        public var failures: Int
    }

    /// Starts waiting for the code of `userID`'s sign-in from the browser `browserID`; returns the token for its cookie.
    public func startChallenge(userID: String, tenantID: String, browserID: String, next: String) async throws -> String {
        let token = SecureRandom.token()
        let now = clock.now
        try await database.write { db in
            try await db.raw("DELETE FROM totp_challenges WHERE expires_at < \(bind: now.ms)").run()
            try await db.raw(
                """
                INSERT INTO totp_challenges (id_hash, tenant_id, user_id, browser_key, next, expires_at, failures)
                VALUES (\(bind: hash(token)), \(bind: tenantID), \(bind: userID), \(bind: browserKey(browserID)), \(bind: next),
                  \(bind: now.addingTimeInterval(challengeLifetime).ms), 0)
                """
            ).run()
        }
        return token
    }

    /// The waiting sign-in of `token`, if it is still alive and was started by this browser.
    public func challenge(token: String, browserID: String) async throws -> Challenge? {
        let now = clock.now
        let maximumGuesses = maximumGuesses
        return try await database.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT tenant_id, user_id, browser_key, next, expires_at, failures FROM totp_challenges WHERE id_hash = \(bind: hash(token))
                    """
                ).first(),
                try row.date("expires_at") > now, try row.int("failures") < maximumGuesses,
                ConstantTime.equals(try row.string("browser_key"), browserKey(browserID))
            else { return nil }
            return Challenge(
                userID: try row.string("user_id"),
                tenantID: try row.string("tenant_id"),
                next: try row.string("next"),
                failures: try row.int("failures")
            )
        }
    }

    /// Counts a wrong code against the waiting sign-in; returns the guesses left (0: it is over).
    public func recordWrongCode(token: String) async throws -> Int {
        let maximumGuesses = maximumGuesses
        return try await database.write { db in
            let failures = try await db.raw(
                "UPDATE totp_challenges SET failures = failures + 1 WHERE id_hash = \(bind: hash(token)) RETURNING failures"
            ).first()?.int("failures")
            return max(0, maximumGuesses - (failures ?? maximumGuesses))
        }
    }

    /// Ends a waiting sign-in (it succeeded or was given up).
    public func endChallenge(token: String) async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM totp_challenges WHERE id_hash = \(bind: hash(token))").run()
        }
    }

    private func createdAt(userID: String, tenantID: String) async throws -> Date? {
        try await database.read { db in
            try await db.raw("SELECT created_at FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").first()
                .map { try $0.date("created_at") }
        }
    }

    private func context(id: String, userID: String, tenantID: String) -> EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: userID, recordID: id, field: "totp_secret")
    }

    private func hash(_ token: String) -> String { keyring.mac(token, purpose: "totp-challenge") }
    private func browserKey(_ browserID: String) -> String { keyring.mac(browserID, purpose: "totp-challenge-browser") }
}
