import Foundation
import Synchronization

/// When this process last deleted unused client registrations: at most once an hour, on a registration.
final class PurgeSchedule: Sendable {
    private let last = Mutex(Date.distantPast)

    /// Whether a purge is due at `now`; marks it done when so.
    func isDue(now: Date, every interval: TimeInterval = 3600) -> Bool {
        last.withLock { last in
            guard now.timeIntervalSince(last) >= interval else { return false }
            last = now
            return true
        }
    }
}
