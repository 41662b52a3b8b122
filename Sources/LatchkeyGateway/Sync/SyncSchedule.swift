public import Foundation

/// When a credential's job runs (pure). Each credential has its own phase in the interval (from a hash of its id),
/// so a thousand credentials connected at once do not all sync at the same moment: their runs are spread evenly
/// over the interval, and each keeps its place run after run.
public struct SyncSchedule: Sendable, Equatable {
    /// The first run comes within this many seconds of a job being planned (spread too), not a whole interval later.
    public var firstRunSpread: TimeInterval
    /// The first retry after a failure; each further failure doubles it, up to the interval.
    public var retryBase: TimeInterval

    public init(firstRunSpread: TimeInterval = 900, retryBase: TimeInterval = 60) {
        self.firstRunSpread = firstRunSpread
        self.retryBase = retryBase
    }

    /// The credential's offset in `[0, length)`, stable across runs and instances.
    static func phase(_ credentialID: String, in length: TimeInterval) -> TimeInterval {
        guard length >= 1 else { return 0 }
        // FNV-1a: the same on every instance and every run (Swift's own hash is seeded per process).
        let value = credentialID.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
        return TimeInterval(value % UInt64(length))
    }

    /// The first run of a job planned at `now`.
    public func firstRun(credentialID: String, interval: TimeInterval, now: Date) -> Date {
        now.addingTimeInterval(Self.phase(credentialID, in: min(interval, firstRunSpread)))
    }

    /// The run after one that ended at `now`: the next time on the credential's phase at least half an interval
    /// away, so runs stay spread even when one ran late.
    public func nextRun(credentialID: String, interval: TimeInterval, now: Date) -> Date {
        let length = max(1, interval)
        let seconds = now.timeIntervalSince1970
        var next = (seconds / length).rounded(.down) * length + Self.phase(credentialID, in: length)
        while next < seconds + length / 2 { next += length }
        return Date(timeIntervalSince1970: next)
    }

    /// The retry after the `failures`-th failure in a row (1 for the first), or after the provider's `retryAfter`.
    public func retry(failures: Int, interval: TimeInterval, retryAfter: TimeInterval?, now: Date) -> Date {
        if let retryAfter { return now.addingTimeInterval(max(1, retryAfter)) }
        let backoff = retryBase * pow(2, Double(max(0, min(failures - 1, 20))))
        return now.addingTimeInterval(min(backoff, max(retryBase, interval)))
    }
}
