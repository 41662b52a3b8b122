public import Foundation
public import LatchkeyCore
import Synchronization

/// Shares each Connection's provider rate budget fairly among its end users, in memory, without touching the
/// database on a call.
///
/// Every Connection has a budget of calls per sliding window (`RateLimitPolicy`: the catalog's default or the
/// Connection's override, answered by `policy`). The end users with calls in the window are its active users; each
/// one's fair share is the budget divided by their number (the caller counted as active). While the Connection's
/// total is below the high-water mark (`FairRateLimiterConfiguration.highWaterFraction` of the budget) anyone may
/// go over their share, borrowing what idle users leave. From the high-water mark on, a user over their share is
/// throttled until their oldest counted call leaves the window, while users under their share are still admitted up
/// to the budget, so a heavy user cannot starve the light ones. The budget is never exceeded within a window.
///
/// The provider's own rate-limit headers (`observeProvider`) lower the budget until their reset, never raising it
/// above the policy.
///
/// Memory stays bounded: a Connection holds at most its budget's worth of call times, end users beyond
/// `maxUsersPerConnection` share one overflow entry, and `sweep` (also run by `admit` about once a minute) forgets
/// the Connections and users idle for a whole window.
///
/// Several instances (PostgreSQL) share a Connection's budget through slices leased from one store: see
/// `admit(connectionID:endUser:sharing:now:)`, `RateBudgetSlices` and `RateBudgetLeaseStore`.
public final class FairRateLimiter: Sendable {
    private struct State {
        var connections: [String: RateLimitConnectionWindow] = [:]
        var lastSweep: TimeInterval
    }

    /// How often `admit` forgets idle Connections on its own.
    static let sweepInterval: TimeInterval = 60

    let clock: any LatchkeyClock
    let policy: @Sendable (String) -> RateLimitPolicy
    /// The limiter's tuning.
    public let configuration: FairRateLimiterConfiguration
    private let state: Mutex<State>

    /// - Parameter policy: the budget and window of a Connection by its ID; called on every call, so it must be
    ///   cheap and must not reach the database (read a cache of the catalog and the Connections' overrides).
    public init(
        clock: any LatchkeyClock,
        configuration: FairRateLimiterConfiguration = FairRateLimiterConfiguration(),
        policy: @escaping @Sendable (String) -> RateLimitPolicy
    ) {
        self.clock = clock
        self.configuration = configuration
        self.policy = policy
        self.state = Mutex(State(lastSweep: clock.now.timeIntervalSinceReferenceDate))
    }

    /// Decides whether `endUser` may call the provider through `connectionID` now, and counts the call if so.
    public func admit(connectionID: String, endUser: String, now: Date? = nil) -> RateLimitDecision {
        let policy = self.policy(connectionID)
        let now = (now ?? clock.now).timeIntervalSinceReferenceDate
        let configuration = self.configuration
        return state.withLock { state in
            if now - state.lastSweep >= Self.sweepInterval {
                Self.sweep(&state.connections, now: now)
                state.lastSweep = now
            }
            var connection =
                state.connections.removeValue(forKey: connectionID)
                ?? RateLimitConnectionWindow(window: policy.window, now: now)
            defer { state.connections[connectionID] = connection }
            connection.window = policy.window
            connection.prune(now: now)
            connection.lastSeen = now
            return Self.decide(&connection, endUser: endUser, policy: policy, configuration: configuration, now: now)
        }
    }

    /// Records the provider's own rate-limit headers for `connectionID`: `remaining` calls are left until
    /// `resetAt`. Until then the Connection admits no more than that; after it, the policy's budget again.
    public func observeProvider(connectionID: String, remaining: Int, resetAt: Date, now: Date? = nil) {
        let policy = self.policy(connectionID)
        let now = (now ?? clock.now).timeIntervalSinceReferenceDate
        let reset = resetAt.timeIntervalSinceReferenceDate
        guard reset > now else { return }
        state.withLock { state in
            var connection =
                state.connections.removeValue(forKey: connectionID)
                ?? RateLimitConnectionWindow(window: policy.window, now: now)
            connection.prune(now: now)
            connection.provider = ProviderAllowance(remaining: max(0, remaining), resetAt: reset)
            state.connections[connectionID] = connection
        }
    }

    /// Counts a call refused outside the local decision (the shared budget), so that usage shows it.
    func recordThrottle(
        connectionID: String,
        endUser: String,
        retryAfter: TimeInterval,
        reason: RateLimitReason,
        now: Date
    ) -> RateLimitDecision {
        let policy = self.policy(connectionID)
        let now = now.timeIntervalSinceReferenceDate
        let maxUsers = configuration.maxUsersPerConnection
        return state.withLock { state in
            var connection =
                state.connections.removeValue(forKey: connectionID)
                ?? RateLimitConnectionWindow(window: policy.window, now: now)
            connection.prune(now: now)
            connection.lastSeen = now
            let key = connection.userKey(endUser, maxUsers: maxUsers)
            var user = connection.users[key] ?? RateLimitUserWindow(lastSeen: now)
            user.lastSeen = now
            let decision = Self.throttle(&connection, &user, retryAfter: retryAfter, reason: reason)
            connection.users[key] = user
            state.connections[connectionID] = connection
            return decision
        }
    }

    /// Forgets the Connections and end users idle for a whole window.
    public func sweep(now: Date? = nil) {
        let now = (now ?? clock.now).timeIntervalSinceReferenceDate
        state.withLock { state in
            Self.sweep(&state.connections, now: now)
            state.lastSweep = now
        }
    }

    /// How many Connections and end users are held in memory (for tests of the bound and for metrics).
    public var trackedCounts: (connections: Int, users: Int) {
        state.withLock { state in
            (state.connections.count, state.connections.values.reduce(0) { $0 + $1.users.count })
        }
    }

    /// Runs `body` on a pruned copy of each Connection's window (or only `only`'s), ordered by Connection ID.
    func withConnections<T>(
        now: Date,
        only: String?,
        _ body: (String, RateLimitConnectionWindow, RateLimitPolicy) -> T
    ) -> [T] {
        let now = now.timeIntervalSinceReferenceDate
        let windows = state.withLock { state -> [(String, RateLimitConnectionWindow)] in
            let ids = only.map { [$0] } ?? Array(state.connections.keys)
            return ids.compactMap { id in
                guard var connection = state.connections[id] else { return nil }
                connection.prune(now: now)
                state.connections[id] = connection
                return (id, connection)
            }
        }
        return windows.sorted { $0.0 < $1.0 }.map { body($0.0, $0.1, policy($0.0)) }
    }

    private static func sweep(_ connections: inout [String: RateLimitConnectionWindow], now: TimeInterval) {
        for id in Array(connections.keys) {
            guard var connection = connections[id] else { continue }
            connection.prune(now: now)
            connection.dropIdleUsers(now: now)
            connections[id] = connection.isIdle(now: now) ? nil : connection
        }
    }

    private static func decide(
        _ connection: inout RateLimitConnectionWindow,
        endUser: String,
        policy: RateLimitPolicy,
        configuration: FairRateLimiterConfiguration,
        now: TimeInterval
    ) -> RateLimitDecision {
        let key = connection.userKey(endUser, maxUsers: configuration.maxUsersPerConnection)
        var user = connection.users[key] ?? RateLimitUserWindow(lastSeen: now)
        user.lastSeen = now
        defer { connection.users[key] = user }

        let total = connection.calls.count
        var budget = policy.budget
        if let provider = connection.provider {
            if provider.remaining <= 0 {
                return throttle(&connection, &user, retryAfter: provider.resetAt - now, reason: .providerLimit)
            }
            budget = min(budget, total + provider.remaining)
        }
        if total >= budget {
            // The call that, on leaving the window, brings the total below the budget.
            let freeing = total - budget
            let retryAfter =
                freeing < total ? connection.calls.element(at: freeing).time + connection.window - now : connection.window
            return throttle(&connection, &user, retryAfter: retryAfter, reason: .budgetExhausted)
        }
        let mine = user.calls.count
        let active = connection.activeUsers + (mine == 0 ? 1 : 0)
        let share = Double(budget) / Double(active)
        let highWater = Int((Double(budget) * configuration.highWaterFraction).rounded(.down))
        if Double(mine + 1) > share && total >= highWater {
            let retryAfter = (user.calls.first ?? now) + connection.window - now
            return throttle(&connection, &user, retryAfter: retryAfter, reason: .overFairShare)
        }
        if mine == 0 { connection.activeUsers += 1 }
        user.calls.append(now)
        connection.calls.append((now, key))
        if connection.provider != nil { connection.provider?.remaining -= 1 }
        return .admitted
    }

    private static func throttle(
        _ connection: inout RateLimitConnectionWindow,
        _ user: inout RateLimitUserWindow,
        retryAfter: TimeInterval,
        reason: RateLimitReason
    ) -> RateLimitDecision {
        connection.throttled += 1
        user.throttled += 1
        return .throttled(retryAfter: max(0, retryAfter), reason: reason)
    }
}
