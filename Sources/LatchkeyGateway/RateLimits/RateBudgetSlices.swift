public import Foundation
public import LatchkeyCore
import Synchronization

/// One instance's slices of its Connections' rate budgets, leased from a `RateBudgetLeaseStore` shared by all
/// instances. Calls are admitted from the local slice without a round trip; the store is asked again only when a
/// slice runs out (or ahead of that, by `refill`, every few hundred milliseconds).
public final class RateBudgetSlices: Sendable {
    /// The answer of `take`.
    public enum Take: Sendable, Equatable {
        /// One call of the slice is taken.
        case granted
        /// The local slice is spent: lease again before deciding.
        case empty
        /// Every instance together has taken the whole budget of this window; it renews in `retryAfter` seconds.
        case exhausted(retryAfter: TimeInterval)
    }

    private struct Slice {
        var windowStart: TimeInterval
        /// The policy the slice was leased under: a changed budget or window starts afresh.
        var policy: RateLimitPolicy
        var remaining = 0
        /// The store said this window's budget is all taken.
        var exhausted = false
        /// Calls taken since the last lease: the size of the next one.
        var spent = 0
    }

    private let store: any RateBudgetLeaseStore
    /// The smallest slice, as a fraction of the budget: what one instance may leave unspent at a window's end.
    private let sliceFraction: Double
    private let slices = Mutex<[String: Slice]>([:])

    public init(store: any RateBudgetLeaseStore, sliceFraction: Double = 0.02) {
        self.store = store
        self.sliceFraction = min(1, max(0, sliceFraction))
    }

    /// The start of the fixed window `now` falls in, the same on every instance.
    static func windowStart(_ now: Date, window: TimeInterval) -> TimeInterval {
        (now.timeIntervalSince1970 / window).rounded(.down) * window
    }

    func minimumSlice(_ policy: RateLimitPolicy) -> Int { max(1, Int(Double(policy.budget) * sliceFraction)) }

    /// Takes one call from the local slice of `connectionID`.
    public func take(connectionID: String, policy: RateLimitPolicy, now: Date) -> Take {
        let start = Self.windowStart(now, window: policy.window)
        return slices.withLock { slices in
            var slice = slices[connectionID] ?? Slice(windowStart: start, policy: policy)
            if slice.windowStart != start || slice.policy != policy { slice = Slice(windowStart: start, policy: policy) }
            defer { slices[connectionID] = slice }
            if slice.remaining > 0 {
                slice.remaining -= 1
                slice.spent += 1
                return .granted
            }
            if slice.exhausted {
                return .exhausted(retryAfter: start + policy.window - now.timeIntervalSince1970)
            }
            slice.spent += 1
            return .empty
        }
    }

    /// Returns a call taken by `take` that was not made after all (the limiter refused it).
    public func giveBack(connectionID: String, policy: RateLimitPolicy, now: Date) {
        let start = Self.windowStart(now, window: policy.window)
        slices.withLock { slices in
            guard var slice = slices[connectionID], slice.windowStart == start, slice.policy == policy else { return }
            slice.remaining += 1
            slice.spent = max(0, slice.spent - 1)
            slices[connectionID] = slice
        }
    }

    /// Leases a new slice for `connectionID`'s current window: as many calls as were taken since the last lease,
    /// at least the minimum slice.
    public func lease(connectionID: String, policy: RateLimitPolicy, now: Date) async throws {
        let start = Self.windowStart(now, window: policy.window)
        let want = slices.withLock { slices -> Int in
            let spent = slices[connectionID].map { $0.windowStart == start && $0.policy == policy ? $0.spent : 0 } ?? 0
            return min(policy.budget, max(minimumSlice(policy), spent))
        }
        let grant = try await store.lease(
            connectionID: connectionID,
            windowStart: Date(timeIntervalSince1970: start),
            budget: policy.budget,
            want: want
        )
        slices.withLock { slices in
            var slice = slices[connectionID] ?? Slice(windowStart: start, policy: policy)
            if slice.windowStart != start || slice.policy != policy { slice = Slice(windowStart: start, policy: policy) }
            slice.remaining += grant
            slice.spent = 0
            if grant < want { slice.exhausted = true }
            slices[connectionID] = slice
        }
    }

    /// Leases ahead for the Connections whose slice is running low, so that calls rarely wait for a lease; run by
    /// the owner every few hundred milliseconds.
    public func refill(now: Date, policy: (String) -> RateLimitPolicy) async throws {
        let low = slices.withLock { slices in
            slices.compactMap { id, slice -> (String, RateLimitPolicy)? in
                let policy = policy(id)
                guard slice.windowStart == Self.windowStart(now, window: policy.window), slice.policy == policy, !slice.exhausted,
                    slice.spent > 0, slice.remaining < minimumSlice(policy)
                else { return nil }
                return (id, policy)
            }
        }
        for (id, policy) in low { try await lease(connectionID: id, policy: policy, now: now) }
    }
}
