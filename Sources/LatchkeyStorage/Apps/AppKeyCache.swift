import Foundation
import LatchkeyCore
import Synchronization

/// A short-lived in-process cache of the apps behind `lk_app_` keys, by HMAC, so that a busy app does not cost a
/// database read per request. Entries live a few seconds: a key regenerated, or an app disabled or deleted, through
/// another instance stops working here within that time; through this instance at once.
final class AppKeyCache: Sendable {
    private struct Entry {
        let app: App
        let expires: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval = 5, capacity: Int = 1024) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func app(forHash hash: String, now: Date) -> App? {
        entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            if entry.expires <= now {
                entries[hash] = nil
                return nil
            }
            return entry.app
        }
    }

    func store(_ app: App, hash: String, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[hash] = Entry(app: app, expires: now.addingTimeInterval(lifetime))
        }
    }

    func remove(appID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.app.id != appID } }
    }
}
