public import Foundation
import LatchkeyCore

/// One Connection's use of its rate budget in the current window, for the API, the console and metrics.
public struct RateLimitUsage: Sendable, Equatable {
    /// One end user's part of it.
    public struct User: Sendable, Equatable {
        /// The end user; nil for the overflow entry shared by the users beyond the tracking cap.
        public var endUser: String?
        /// Calls counted in the window.
        public var calls: Int
        /// The user's fair share of the budget (budget ÷ active users).
        public var share: Double
        /// Calls refused since the user was last idle for a whole window.
        public var throttled: Int
    }

    public var connectionID: String
    /// The budget in force: the policy's, or lower while the provider's headers say so.
    public var budget: Int
    /// The policy's budget (catalog default or the Connection's override).
    public var policyBudget: Int
    public var window: TimeInterval
    /// Calls counted in the window, all users together.
    public var used: Int
    public var activeUsers: Int
    /// Calls refused since the Connection was last idle for a whole window.
    public var throttled: Int
    /// What the provider's headers last said is left, until `providerResetAt`.
    public var providerRemaining: Int?
    public var providerResetAt: Date?
    /// At or above `FairRateLimiterConfiguration.nearLimitFraction` of the budget: the gauge to alert on.
    public var nearLimit: Bool
    /// Busiest first.
    public var users: [User]
}

extension FairRateLimiter {
    /// The use of `connectionID`'s budget now; nil when the limiter holds nothing for it.
    public func usage(connectionID: String, now: Date? = nil) -> RateLimitUsage? {
        usages(now: now, only: connectionID).first
    }

    /// The use of every Connection the limiter holds, ordered by Connection ID.
    public func usages(now: Date? = nil) -> [RateLimitUsage] {
        usages(now: now, only: nil)
    }

    private func usages(now: Date?, only: String?) -> [RateLimitUsage] {
        let moment = now ?? clock.now
        return withConnections(now: moment, only: only) { id, connection, policy in
            let total = connection.calls.count
            var budget = policy.budget
            if let provider = connection.provider { budget = min(budget, total + max(0, provider.remaining)) }
            let active = max(1, connection.activeUsers)
            let share = Double(budget) / Double(active)
            let users = connection.users
                .map { key, user in
                    RateLimitUsage.User(
                        endUser: key.endUser,
                        calls: user.calls.count,
                        share: user.calls.isEmpty ? 0 : share,
                        throttled: user.throttled
                    )
                }
                .sorted { ($0.calls, $1.endUser ?? "") > ($1.calls, $0.endUser ?? "") }
            return RateLimitUsage(
                connectionID: id,
                budget: budget,
                policyBudget: policy.budget,
                window: connection.window,
                used: total,
                activeUsers: connection.activeUsers,
                throttled: connection.throttled,
                providerRemaining: connection.provider?.remaining,
                providerResetAt: connection.provider.map { Date(timeIntervalSinceReferenceDate: $0.resetAt) },
                nearLimit: budget == 0
                    || Double(total) >= Double(budget) * configuration.nearLimitFraction,
                users: users
            )
        }
    }
}
