public import Foundation
public import LatchkeyCore
import SQLKit

/// Slows down password guessing: after `maxFailures` failed sign-ins within `window`, an account (and, separately,
/// a client address) is locked for `lockout`. Kept in the database so that every instance applies the same limit.
public struct LoginThrottle: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any LatchkeyClock
    public var maxFailures = 5
    public var ipMaxFailures = 20
    public var window: TimeInterval = 15 * 60
    public var lockout: TimeInterval = 15 * 60

    public init(database: Database, keyring: Keyring, clock: any LatchkeyClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    /// The buckets a sign-in attempt counts against. Account names are stored as HMACs.
    public func buckets(email: String, ip: String?) -> [(key: String, limit: Int)] {
        var out = [(key: "acct:" + keyring.mac(email.lowercased(), purpose: "login-throttle"), limit: maxFailures)]
        if let ip { out.append((key: "ip:" + ip, limit: ipMaxFailures)) }
        return out
    }

    /// Seconds until sign-in may be tried again, or nil when it may be tried now.
    public func retryAfter(email: String, ip: String?) async throws -> Int? {
        let now = clock.now
        let keys = buckets(email: email, ip: ip).map(\.key)
        return try await database.read { db -> Int? in
            var wait: Int?
            for key in keys {
                guard let row = try await db.raw("SELECT locked_until FROM login_throttle WHERE bucket = \(bind: key)").first(),
                    let until = try row.optionalDate("locked_until"), until > now
                else { continue }
                let seconds = Int(until.timeIntervalSince(now).rounded(.up))
                wait = max(wait ?? 0, seconds)
            }
            return wait
        }
    }

    /// Counts a failed attempt; returns the lockout in seconds when this failure started one.
    @discardableResult
    public func recordFailure(email: String, ip: String?) async throws -> Int? {
        let now = clock.now
        var lockedFor: Int?
        for (key, limit) in buckets(email: email, ip: ip) {
            let locked = try await database.transaction { db -> Bool in
                let row = try await db.raw(
                    "SELECT failures, window_start FROM login_throttle WHERE bucket = \(bind: key)\(unsafeRaw: database.forUpdate)"
                ).first()
                var failures = 1
                var start = now
                if let row, now.timeIntervalSince(try row.date("window_start")) < window {
                    failures = try row.int("failures") + 1
                    start = try row.date("window_start")
                }
                let lockedUntil: Date? = failures >= limit ? now.addingTimeInterval(lockout) : nil
                try await db.raw(
                    """
                    INSERT INTO login_throttle (bucket, failures, window_start, locked_until)
                    VALUES (\(bind: key), \(bind: failures), \(bind: start.ms), \(bind: lockedUntil?.ms))
                    ON CONFLICT (bucket) DO UPDATE SET failures = EXCLUDED.failures, window_start = EXCLUDED.window_start,
                      locked_until = EXCLUDED.locked_until
                    """
                ).run()
                return lockedUntil != nil
            }
            if locked { lockedFor = Int(lockout) }
        }
        return lockedFor
    }

    /// Clears the account's count after a successful sign-in.
    public func recordSuccess(email: String) async throws {
        let key = buckets(email: email, ip: nil)[0].key
        try await database.write { db in
            try await db.raw("DELETE FROM login_throttle WHERE bucket = \(bind: key)").run()
        }
    }
}
