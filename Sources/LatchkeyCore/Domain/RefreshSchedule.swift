public import Foundation

/// When a credential should be refreshed in the background: some time before its access token expires, spread
/// out so that many tokens expiring together are not all refreshed in the same second, and before an unused
/// refresh token would die.
public struct RefreshPolicy: Sendable, Equatable {
    /// Refresh this long before the access token expires (the latest point; spreading moves it earlier).
    public var buffer: TimeInterval
    /// Seconds of disuse after which the provider drops a refresh token, when it does.
    public var idleExpiry: TimeInterval?

    public init(buffer: TimeInterval = 300, idleExpiry: TimeInterval? = nil) {
        self.buffer = buffer
        self.idleExpiry = idleExpiry
    }

    public static let standard = RefreshPolicy()

    /// The moment to refresh, or nil when there is nothing to refresh (no refresh token) or no reason to.
    /// `spread` in 0...1 picks a point in the last `buffer` before expiry, between `buffer` and `buffer / 2`
    /// ahead of it (callers pass a random number, tests a fixed one).
    public func dueDate(expiresAt: Date?, hasRefreshToken: Bool, lastRefreshed: Date, spread: Double) -> Date? {
        guard hasRefreshToken else { return nil }
        var due: Date?
        if let expiresAt {
            let lead = buffer * (1 - 0.5 * min(max(spread, 0), 1))
            due = expiresAt.addingTimeInterval(-lead)
        }
        if let idleExpiry {
            // Well before the idle limit, spread the same way over its last fifth.
            let idleDue = lastRefreshed.addingTimeInterval(idleExpiry * (0.7 + 0.1 * min(max(spread, 0), 1)))
            due = due.map { min($0, idleDue) } ?? idleDue
        }
        // Stored to the millisecond.
        return due.map { Date(unixMilliseconds: $0.unixMilliseconds) }
    }
}
