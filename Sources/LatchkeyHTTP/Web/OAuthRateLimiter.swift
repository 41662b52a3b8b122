import Foundation
import LatchkeyCore
import Synchronization

/// A fixed-window request limit per key (a client address, or a client and address), kept in this process: the
/// OAuth endpoints' flood guard. Keys are HMACs or ids, never secrets.
final class OAuthRateLimiter: Sendable {
    let limit: Int
    let window: TimeInterval
    let clock: any LatchkeyClock
    private let counts = Mutex([String: (start: Date, count: Int)]())

    init(limit: Int, window: TimeInterval = 60, clock: any LatchkeyClock) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    /// Counts a request for `key`; the seconds to wait when it is over the limit, nil when it may go on.
    func retryAfter(_ key: String) -> Int? {
        let now = clock.now
        return counts.withLock { counts in
            if counts.count > 50_000 { counts = counts.filter { now.timeIntervalSince($0.value.start) < window } }
            var entry = counts[key] ?? (now, 0)
            if now.timeIntervalSince(entry.start) >= window { entry = (now, 0) }
            entry.count += 1
            counts[key] = entry
            guard entry.count > limit else { return nil }
            return max(1, Int((window - now.timeIntervalSince(entry.start)).rounded(.up)))
        }
    }
}
