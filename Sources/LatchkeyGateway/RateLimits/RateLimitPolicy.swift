public import Foundation

/// How many calls a Connection may make to its provider per window: the catalog's default for the integration,
/// or the Connection's own override.
public struct RateLimitPolicy: Sendable, Equatable {
    /// Calls admitted per window across all end users of the Connection.
    public var budget: Int
    /// The length of the sliding window, in seconds.
    public var window: TimeInterval

    public init(budget: Int, window: TimeInterval) {
        self.budget = max(0, budget)
        self.window = max(0.001, window)
    }
}

/// The limiter's tuning, the same for every Connection.
public struct FairRateLimiterConfiguration: Sendable, Equatable {
    /// Below this fraction of the budget a user may go over their fair share (borrow what idle users leave);
    /// at or above it, users over their share are throttled while the others are still admitted up to the budget.
    public var highWaterFraction: Double
    /// The fraction of the budget from which a Connection counts as near its limit (the alerting gauge).
    public var nearLimitFraction: Double
    /// The most end users tracked one by one per Connection. End users seen while that many are tracked share
    /// one overflow entry: together they count as one user for fair shares, and the Connection's budget still
    /// holds for all of them.
    public var maxUsersPerConnection: Int

    public init(highWaterFraction: Double = 0.85, nearLimitFraction: Double = 0.9, maxUsersPerConnection: Int = 10_000) {
        self.highWaterFraction = min(1, max(0, highWaterFraction))
        self.nearLimitFraction = min(1, max(0, nearLimitFraction))
        self.maxUsersPerConnection = max(1, maxUsersPerConnection)
    }
}

/// Why a call was not admitted.
public enum RateLimitReason: String, Sendable, Equatable {
    /// The Connection is near its budget and this end user already made more than their fair share of its calls.
    case overFairShare = "over_fair_share"
    /// The Connection's whole budget for the window is used.
    case budgetExhausted = "budget_exhausted"
    /// The provider's own rate-limit headers said no calls are left until their reset.
    case providerLimit = "provider_limit"
}

/// The limiter's answer for one call.
public enum RateLimitDecision: Sendable, Equatable {
    case admitted
    /// Not admitted; `retryAfter` seconds from now the same call would count against a freed slot.
    case throttled(retryAfter: TimeInterval, reason: RateLimitReason)

    /// The `Retry-After` header value: whole seconds, rounded up, at least 1. Nil when admitted.
    public var retryAfterSeconds: Int? {
        guard case .throttled(let retryAfter, _) = self else { return nil }
        return max(1, Int(retryAfter.rounded(.up)))
    }
}
