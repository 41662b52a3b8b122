public import Foundation
import Synchronization

/// Keeps background sync at low priority in each Connection's rate budget. The fair limiter has no priorities, so
/// the sync holds itself back before asking it: it makes at most ``fraction`` of the budget's calls in any window,
/// and none while the Connection's calls (everyone's, as the limiter counts them on this instance) are at the
/// limiter's high-water mark, so interactive calls always find the rest of the budget. The calls it does make go
/// through the limiter like any other (counted as the credential's end user).
public final class SyncPacer: Sendable {
    /// The part of a Connection's budget sync may use in one window (0.2: a fifth) when the Connection sets none
    /// (`budgetFraction` in its sync settings).
    public let fraction: Double
    private let calls = Mutex<[String: [TimeInterval]]>([:])

    public init(fraction: Double = 0.2) {
        self.fraction = min(1, max(0.01, fraction))
    }

    /// Whether sync may call through `connectionID` now: nil when it may (the call is counted), else how many
    /// seconds to wait. `budget` and `window` are the Connection's policy, `used` its calls in the window and
    /// `highWater` the limiter's high-water mark; `fraction`, when given, the Connection's own share in place of
    /// ``fraction``.
    public func admit(
        connectionID: String,
        budget: Int,
        window: TimeInterval,
        used: Int,
        highWater: Int,
        now: Date,
        fraction: Double? = nil
    ) -> TimeInterval? {
        let share = fraction.map { min(1, max(0.01, $0)) } ?? self.fraction
        let allowed = max(1, Int((Double(budget) * share).rounded(.down)))
        let time = now.timeIntervalSinceReferenceDate
        return calls.withLock { calls in
            var mine = calls[connectionID, default: []].filter { $0 > time - window }
            defer { calls[connectionID] = mine.isEmpty ? nil : mine }
            if mine.count >= allowed { return max(1, mine[0] + window - time) }
            if used >= highWater, budget > 0 { return max(1, min(window, 60)) }
            mine.append(time)
            return nil
        }
    }

    /// Sync calls counted for `connectionID` in the window ending `now`.
    public func calls(connectionID: String, window: TimeInterval, now: Date) -> Int {
        let time = now.timeIntervalSinceReferenceDate
        return calls.withLock { $0[connectionID, default: []].filter { $0 > time - window }.count }
    }
}
