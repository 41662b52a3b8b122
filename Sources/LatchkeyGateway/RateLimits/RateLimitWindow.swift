import Foundation

/// A first-in first-out queue of values that pops from the front in constant time, compacting now and then.
struct RateLimitQueue<Element> {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    /// The element `offset` places from the front (0 is the oldest).
    func element(at offset: Int) -> Element { storage[head + offset] }

    mutating func append(_ element: Element) { storage.append(element) }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 1024)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

/// Who a counted call belongs to: one tracked end user, or the overflow entry shared by the end users seen while
/// a Connection already tracked as many as allowed.
enum RateLimitUserKey: Hashable {
    case user(String)
    case overflow

    var endUser: String? {
        if case .user(let name) = self { return name }
        return nil
    }
}

/// One end user's calls on one Connection within the window.
struct RateLimitUserWindow {
    /// When each counted call was admitted (seconds since the reference date), oldest first.
    var calls = RateLimitQueue<TimeInterval>()
    /// Calls refused since this user was last idle for a whole window.
    var throttled = 0
    /// The last time this user asked, admitted or not.
    var lastSeen: TimeInterval
}

/// What the provider's own rate-limit headers last said about a Connection.
struct ProviderAllowance {
    var remaining: Int
    var resetAt: TimeInterval
}

/// One Connection's sliding window: every counted call in admission order, and each user's share of them.
struct RateLimitConnectionWindow {
    var window: TimeInterval
    /// Every counted call, oldest first, with its user.
    var calls = RateLimitQueue<(time: TimeInterval, user: RateLimitUserKey)>()
    var users: [RateLimitUserKey: RateLimitUserWindow] = [:]
    /// Users with at least one counted call.
    var activeUsers = 0
    var throttled = 0
    var provider: ProviderAllowance?
    var lastSeen: TimeInterval

    init(window: TimeInterval, now: TimeInterval) {
        self.window = window
        self.lastSeen = now
    }

    /// The entry `endUser`'s calls count under: their own, or the overflow one once `maxUsers` are tracked.
    func userKey(_ endUser: String, maxUsers: Int) -> RateLimitUserKey {
        users[.user(endUser)] != nil || users.count < maxUsers ? .user(endUser) : .overflow
    }

    /// Forgets the calls that left the window, the users idle for a whole window, and a provider allowance
    /// whose reset passed.
    mutating func prune(now: TimeInterval) {
        let horizon = now - window
        while let oldest = calls.first, oldest.time <= horizon {
            calls.popFirst()
            guard var user = users[oldest.user] else { continue }
            user.calls.popFirst()
            if user.calls.isEmpty {
                activeUsers -= 1
                if user.lastSeen <= horizon {
                    users[oldest.user] = nil
                    continue
                }
            }
            users[oldest.user] = user
        }
        if let provider, provider.resetAt <= now { self.provider = nil }
    }

    /// Drops users with no counted call who have not asked for a whole window (they only hold a throttle count).
    mutating func dropIdleUsers(now: TimeInterval) {
        let horizon = now - window
        users = users.filter { !$0.value.calls.isEmpty || $0.value.lastSeen > horizon }
    }

    /// Nothing counted, nothing to remember: the Connection may be forgotten.
    func isIdle(now: TimeInterval) -> Bool {
        calls.isEmpty && provider == nil && lastSeen <= now - window
    }
}
