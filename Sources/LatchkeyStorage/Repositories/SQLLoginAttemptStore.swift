public import Foundation
public import LatchkeyCore
import SQLKit

/// Sign-in throttle buckets (`login_throttle`) and known browsers (`login_known_browsers`).
public struct SQLLoginAttemptStore: LoginAttemptStore {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func isKnownBrowser(_ key: String, since: Date) async throws -> Bool {
        try await database.read { db in
            try await db.raw("SELECT key FROM login_known_browsers WHERE key = \(bind: key) AND last_sign_in > \(bind: since.ms)").first()
        } != nil
    }

    public func retryAt(bucket: String) async throws -> Date? {
        try await database.read { db in
            try await db.raw("SELECT retry_at FROM login_throttle WHERE bucket = \(bind: bucket)").first().map { try $0.date("retry_at") }
        }
    }

    public func recordFailure(
        bucket: String,
        at now: Date,
        window: TimeInterval,
        delay: @Sendable (_ failures: Int) -> TimeInterval?
    ) async throws -> TimeInterval? {
        let forUpdate = database.forUpdate
        return try await database.transaction { db -> TimeInterval? in
            let row = try await db.raw(
                "SELECT failures, last_failure FROM login_throttle WHERE bucket = \(bind: bucket)\(unsafeRaw: forUpdate)"
            ).first()
            var failures = 1
            if let row, now.timeIntervalSince(try row.date("last_failure")) < window {
                failures = try row.int("failures") + 1
            }
            let wait = delay(failures)
            let retryAt = now.addingTimeInterval(wait ?? 0)
            try await db.raw(
                """
                INSERT INTO login_throttle (bucket, failures, last_failure, retry_at)
                VALUES (\(bind: bucket), \(bind: failures), \(bind: now.ms), \(bind: retryAt.ms))
                ON CONFLICT (bucket) DO UPDATE SET failures = EXCLUDED.failures, last_failure = EXCLUDED.last_failure,
                  retry_at = EXCLUDED.retry_at
                """
            ).run()
            return wait
        }
    }

    public func purge(lastFailureBefore: Date, now: Date) async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM login_throttle WHERE last_failure < \(bind: lastFailureBefore.ms) AND retry_at < \(bind: now.ms)").run()
        }
    }

    public func recordSuccess(clearing buckets: [String], knownBrowser: String?, at now: Date, forgetBrowsersBefore: Date) async throws {
        try await database.transaction { db in
            for bucket in buckets {
                try await db.raw("DELETE FROM login_throttle WHERE bucket = \(bind: bucket)").run()
            }
            if let knownBrowser {
                try await db.raw(
                    """
                    INSERT INTO login_known_browsers (key, last_sign_in) VALUES (\(bind: knownBrowser), \(bind: now.ms))
                    ON CONFLICT (key) DO UPDATE SET last_sign_in = EXCLUDED.last_sign_in
                    """
                ).run()
            }
            try await db.raw("DELETE FROM login_known_browsers WHERE last_sign_in < \(bind: forgetBrowsersBefore.ms)").run()
        }
    }
}
