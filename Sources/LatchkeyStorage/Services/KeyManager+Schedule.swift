import Crypto
public import Foundation
public import LatchkeyCore
import Logging
import SQLKit

extension KeyManager {
    /// When the active data key was created.
    public func activeDataKeyCreatedAt() async throws -> Date {
        try await database.read { db in
            guard let active = try await db.raw("SELECT value FROM settings WHERE key = \(bind: Self.activeVersionSetting)").first()?.string("value"),
                let version = Int(active),
                let row = try await db.raw("SELECT created_at FROM keyring WHERE purpose = 'data' AND version = \(bind: version)").first()
            else {
                throw KeyError(description: "The keyring has no active data-key version.")
            }
            return try row.date("created_at")
        }
    }

    /// Adds a new data-key version when the active one is at least `maximumAge` old, and returns it (nil when the key
    /// is younger, or when another instance rotated first). Of several instances only one rotates: the active
    /// version is claimed with an update conditional on its old value, in the transaction that adds the key.
    public func rotateIfOlder(than maximumAge: TimeInterval, keyring: Keyring) async throws -> Int? {
        let master = keyring.masterKey
        let now = clock.now
        let version = try await database.transaction { db -> Int? in
            guard
                let activeText = try await db.raw("SELECT value FROM settings WHERE key = \(bind: Self.activeVersionSetting)").first()?.string(
                    "value"
                ),
                let active = Int(activeText),
                let row = try await db.raw("SELECT created_at FROM keyring WHERE purpose = 'data' AND version = \(bind: active)").first()
            else { return nil }
            guard now.timeIntervalSince(try row.date("created_at")) >= maximumAge else { return nil }
            let maximum = try await db.raw("SELECT MAX(version) AS v FROM keyring WHERE purpose = 'data'").first()?.optionalInt("v") ?? active
            let next = max(maximum, active) + 1
            let claimed = try await db.raw(
                """
                UPDATE settings SET value = \(bind: String(next))
                WHERE key = \(bind: Self.activeVersionSetting) AND value = \(bind: activeText) RETURNING key
                """
            ).all()
            guard !claimed.isEmpty else { return nil }
            try await repository.insert(
                try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: next, master: master, createdAt: now),
                on: db
            )
            return next
        }
        guard let version else { return nil }
        try await refresh(keyring)
        logger.info("data key rotated on schedule", metadata: ["data_key_version": "\(version)"])
        return version
    }
}
