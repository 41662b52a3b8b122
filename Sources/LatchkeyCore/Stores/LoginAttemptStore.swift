public import Foundation

/// Where failed sign-ins are counted (per bucket, by HMAC keys only) and browsers that signed in successfully are
/// remembered, so that every instance applies the same limits. The rules belong to the sign-in flow.
public protocol LoginAttemptStore: Sendable {
    /// Whether the browser key signed in successfully after `since`.
    func isKnownBrowser(_ key: String, since: Date) async throws -> Bool
    /// Until when the bucket makes attempts wait, if it does.
    func retryAt(bucket: String) async throws -> Date?
    /// Counts one failure in `bucket` atomically: the failures so far are forgotten when the last one is older than
    /// `window`; `delay` turns the new count into the wait it imposes. Returns that wait.
    func recordFailure(
        bucket: String,
        at now: Date,
        window: TimeInterval,
        delay: @Sendable (_ failures: Int) -> TimeInterval?
    ) async throws -> TimeInterval?
    /// Drops buckets whose last failure is older than `lastFailureBefore` and that make no one wait at `now`.
    func purge(lastFailureBefore: Date, now: Date) async throws
    /// After a successful sign-in, in one transaction: clears `buckets`, remembers `knownBrowser` (when given) as
    /// signed in at `now`, and forgets browsers last seen before `forgetBrowsersBefore`.
    func recordSuccess(clearing buckets: [String], knownBrowser: String?, at now: Date, forgetBrowsersBefore: Date) async throws
}
