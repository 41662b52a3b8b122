import Foundation
import LatchkeyCore
import Synchronization

/// A short-lived in-process cache of authenticated admin keys, by HMAC, so that a busy caller does not cost a
/// database read per request. Entries live a few seconds: a key revoked by another instance stops working within
/// that time; one revoked through this instance stops at once.
final class AdminKeyCache: Sendable {
    private struct Entry {
        let key: AdminKey
        let expires: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval = 5, capacity: Int = 1024) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func key(forHash hash: String, now: Date) -> AdminKey? {
        entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            if entry.expires <= now {
                entries[hash] = nil
                return nil
            }
            return entry.key
        }
    }

    func store(_ key: AdminKey, hash: String, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[hash] = Entry(key: key, expires: now.addingTimeInterval(lifetime))
        }
    }

    func remove(keyID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.key.id != keyID } }
    }
}
