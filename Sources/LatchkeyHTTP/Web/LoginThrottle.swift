public import Foundation
public import LatchkeyCore

/// Slows password guessing without locking the person who knows the password out.
///
/// Failed sign-ins are counted in buckets; after a bucket's free failures each further failure makes the next
/// attempt wait, 1 s doubling up to a cap. Attempts made while a bucket waits are refused without checking the
/// password and are not counted. Which buckets apply depends on where the attempt comes from:
///
/// - **A known browser** (one that signed in to this account successfully before, recognised by the browser cookie
///   the sign-in form's CSRF token is bound to): only the bucket of that account and that browser. Whatever an
///   attacker does from elsewhere, from any address, never delays the person at their own browser.
/// - **Any other browser**: the bucket of the account and the client address (3 free failures, waits up to
///   5 minutes), and the bucket of the address alone, with a much higher ceiling (100 free failures, waits up to
///   1 minute) that slows guessing across many accounts. Nothing locks an account for everyone, and a reverse proxy's
///   shared address slows only after a hundred failures (name the proxy in `--trusted-proxies` to see real addresses).
///
/// A bucket forgets its failures `window` after its last one. A successful sign-in clears the buckets of that account
/// (not the address's) and remembers the browser for `knownBrowserLifetime`. Accounts, addresses and browser ids are
/// stored as HMACs only, in a `LoginAttemptStore` (the database), so every instance applies the same limits.
public struct LoginThrottle: Sendable {
    /// When a bucket starts to wait and how long the waits grow.
    public struct Rule: Sendable {
        /// Failures allowed before the first wait.
        public var freeFailures: Int
        /// The first wait, doubled with every further failure.
        public var baseDelay: TimeInterval
        /// The longest wait.
        public var maxDelay: TimeInterval

        /// A rule that allows `freeFailures`, then waits `baseDelay` doubling up to `maxDelay`.
        public init(freeFailures: Int, baseDelay: TimeInterval = 1, maxDelay: TimeInterval) {
            self.freeFailures = freeFailures
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
        }

        /// The wait after the `failures`-th failure, nil while failures are still free.
        public func delay(afterFailures failures: Int) -> TimeInterval? {
            guard failures >= freeFailures else { return nil }
            let doublings = min(failures - freeFailures, 40)
            return min(maxDelay, baseDelay * pow(2, Double(doublings)))
        }
    }

    /// One sign-in attempt: the account, where it comes from, and whether that browser is known for the account.
    public struct Attempt: Sendable {
        /// The tenant whose console is signed in to.
        public let tenantID: String
        /// The account, lowercased.
        public let email: String
        /// The client address (after trusted proxies), if known.
        public let address: String?
        /// The browser cookie's id, if the browser sent one.
        public let browserID: String?
        /// The browser signed in to this account successfully before.
        public let knownBrowser: Bool
    }

    let store: any LoginAttemptStore
    let keyring: Keyring
    let clock: any LatchkeyClock
    /// Per account and client address, for browsers not known for the account.
    public var accountAndAddress = Rule(freeFailures: 3, maxDelay: 5 * 60)
    /// Per account and browser, for a known browser.
    public var accountAndKnownBrowser = Rule(freeFailures: 3, maxDelay: 5 * 60)
    /// Per client address, across accounts; only slows.
    public var address = Rule(freeFailures: 100, maxDelay: 60)
    /// A bucket's failures are forgotten this long after its last one.
    public var window: TimeInterval = 15 * 60
    /// How long a browser stays known after its last successful sign-in.
    public var knownBrowserLifetime: TimeInterval = 180 * 24 * 3600

    public init(store: any LoginAttemptStore, keyring: Keyring, clock: any LatchkeyClock) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
    }

    /// Describes an attempt, looking up whether its browser is known for the account.
    public func attempt(tenantID: String, email: String, address: String?, browserID: String?) async throws -> Attempt {
        let email = email.lowercased()
        var known = false
        if let browserID, !browserID.isEmpty {
            let key = knownBrowserKey(tenantID: tenantID, email: email, browserID: browserID)
            known = try await store.isKnownBrowser(key, since: clock.now.addingTimeInterval(-knownBrowserLifetime))
        }
        return Attempt(tenantID: tenantID, email: email, address: address, browserID: browserID, knownBrowser: known)
    }

    /// The buckets an attempt counts against, with their rules.
    func buckets(_ attempt: Attempt) -> [(key: String, rule: Rule)] {
        let account = attempt.tenantID + "\n" + attempt.email
        if attempt.knownBrowser, let browserID = attempt.browserID {
            return [("kb:" + keyring.mac(account + "\n" + browserID, purpose: "login-throttle"), accountAndKnownBrowser)]
        }
        var out = [(key: "aa:" + keyring.mac(account + "\n" + (attempt.address ?? ""), purpose: "login-throttle"), rule: accountAndAddress)]
        if let address = attempt.address {
            out.append(("ip:" + keyring.mac(address, purpose: "login-throttle"), self.address))
        }
        return out
    }

    /// Whole seconds until this attempt may be made, or nil when it may be made now.
    public func retryAfter(_ attempt: Attempt) async throws -> Int? {
        let now = clock.now
        var wait: Int?
        for (key, _) in buckets(attempt) {
            guard let until = try await store.retryAt(bucket: key), until > now else { continue }
            wait = max(wait ?? 0, Int(until.timeIntervalSince(now).rounded(.up)))
        }
        return wait
    }

    /// Counts a failed attempt; returns the seconds the next attempt has to wait, nil when it need not.
    @discardableResult
    public func recordFailure(_ attempt: Attempt) async throws -> Int? {
        let now = clock.now
        let window = window
        var longest: TimeInterval?
        for (key, rule) in buckets(attempt) {
            let delay = try await store.recordFailure(bucket: key, at: now, window: window) { rule.delay(afterFailures: $0) }
            if let delay { longest = max(longest ?? 0, delay) }
        }
        // Buckets whose failures are forgotten and that make no one wait are dropped.
        try await store.purge(lastFailureBefore: now.addingTimeInterval(-window), now: now)
        return longest.map { Int($0.rounded(.up)) }
    }

    /// After a successful sign-in: clears the account's buckets for this address or browser (never the address's own
    /// bucket, which another account's success must not reset) and remembers the browser as known for the account.
    public func recordSuccess(_ attempt: Attempt) async throws {
        let now = clock.now
        let keys = buckets(attempt).map(\.key).filter { !$0.hasPrefix("ip:") }
        let known = attempt.browserID.flatMap { $0.isEmpty ? nil : knownBrowserKey(tenantID: attempt.tenantID, email: attempt.email, browserID: $0) }
        try await store.recordSuccess(
            clearing: keys,
            knownBrowser: known,
            at: now,
            forgetBrowsersBefore: now.addingTimeInterval(-knownBrowserLifetime)
        )
    }

    func knownBrowserKey(tenantID: String, email: String, browserID: String) -> String {
        keyring.mac(tenantID + "\n" + email.lowercased() + "\n" + browserID, purpose: "login-known-browser")
    }
}
