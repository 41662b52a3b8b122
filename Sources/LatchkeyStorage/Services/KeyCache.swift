import Foundation
import LatchkeyCore
import Synchronization

/// A short-lived in-process cache of what an API key authenticates as (an admin key, an app), by the key's HMAC, so
/// that a busy caller does not cost a database read per request. A key revoked or regenerated (an app disabled or
/// deleted) stops working at once on the instance that changed it (`remove`). On SQLite there is only that instance,
/// so entries live a few seconds; on PostgreSQL other instances share the database and cannot see the change, so
/// entries are not used to authenticate (``lifetime(for:)`` is 0) and every request reads the key: a key disabled
/// during an incident fails on its next request everywhere. While the database does not answer (degraded mode), an
/// entry up to the degraded lifetime old is used instead, on either database.
final class KeyCache<Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let stored: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval = 5, capacity: Int = 1024) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// How long entries authenticate: 5 s on SQLite (one instance), 0 on PostgreSQL (instances share the database).
    static func lifetime(for database: Database) -> TimeInterval {
        database.kind == .postgres ? 0 : 5
    }

    func value(forHash hash: String, now: Date) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[hash], entry.stored.addingTimeInterval(lifetime) > now else { return nil }
            return entry.value
        }
    }

    /// Degraded mode (the database does not answer): what the key authenticated as less than `maximumAge` ago.
    /// Entries are kept (bounded by `capacity`) that long for this; a key revoked through this instance was removed.
    func degradedValue(forHash hash: String, now: Date, maximumAge: TimeInterval) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[hash], entry.stored.addingTimeInterval(maximumAge) > now else { return nil }
            return entry.value
        }
    }

    func store(_ value: Value, hash: String, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[hash] == nil { entries.removeAll() }
            entries[hash] = Entry(value: value, stored: now)
        }
    }

    /// Drops every entry whose value `matches` (a revoked key, a changed app).
    func remove(where matches: (Value) -> Bool) {
        entries.withLock { entries in entries = entries.filter { !matches($0.value.value) } }
    }
}

/// Admin keys by HMAC (`TenantService.authenticateAdminKey`).
typealias AdminKeyCache = KeyCache<AdminKey>

extension KeyCache where Value == AdminKey {
    func key(forHash hash: String, now: Date) -> AdminKey? { value(forHash: hash, now: now) }
    func remove(keyID: String) { remove { $0.id == keyID } }
}

/// Apps by the HMAC of their `lk_app_` key (`AppService.authenticate`).
typealias AppKeyCache = KeyCache<App>

extension KeyCache where Value == App {
    func app(forHash hash: String, now: Date) -> App? { value(forHash: hash, now: now) }
    func remove(appID: String) { remove { $0.id == appID } }
}
