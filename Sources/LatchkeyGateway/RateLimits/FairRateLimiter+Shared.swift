public import Foundation
import LatchkeyCore

extension FairRateLimiter {
    /// Decides like `admit(connectionID:endUser:now:)`, and also takes the call from this instance's slice of the
    /// budget shared by all instances; it waits for the store only when the local slice is spent. When the store
    /// cannot be reached the call is decided locally alone, so calls go on while the database is away.
    public func admit(
        connectionID: String,
        endUser: String,
        sharing slices: RateBudgetSlices,
        now: Date? = nil
    ) async -> RateLimitDecision {
        let now = now ?? clock.now
        let policy = self.policy(connectionID)
        var take = slices.take(connectionID: connectionID, policy: policy, now: now)
        if take == .empty {
            do {
                try await slices.lease(connectionID: connectionID, policy: policy, now: now)
            } catch {
                return admit(connectionID: connectionID, endUser: endUser, now: now)
            }
            take = slices.take(connectionID: connectionID, policy: policy, now: now)
        }
        switch take {
        case .granted:
            let decision = admit(connectionID: connectionID, endUser: endUser, now: now)
            if decision != .admitted { slices.giveBack(connectionID: connectionID, policy: policy, now: now) }
            return decision
        case .exhausted(let retryAfter):
            return recordThrottle(
                connectionID: connectionID,
                endUser: endUser,
                retryAfter: retryAfter,
                reason: .budgetExhausted,
                now: now
            )
        case .empty:
            // Another task spent the fresh slice first: the next lease is a refill away.
            return recordThrottle(
                connectionID: connectionID,
                endUser: endUser,
                retryAfter: 1,
                reason: .budgetExhausted,
                now: now
            )
        }
    }
}
