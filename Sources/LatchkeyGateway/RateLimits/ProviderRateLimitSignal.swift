public import Foundation
public import LatchkeyProviders

/// What a provider's answer says about its own rate limit, read from the headers the catalog names
/// (`rateLimitHeaders`): how many calls are left and when that count resets, or how long to wait. Pure.
public struct ProviderRateLimitSignal: Sendable, Equatable {
    /// Calls the provider says are left until `resetAt`.
    public var remaining: Int?
    /// When the provider's count starts again.
    public var resetAt: Date?
    /// How long the provider asks callers to wait (its `Retry-After`), in seconds.
    public var retryAfter: TimeInterval?

    public init(remaining: Int? = nil, resetAt: Date? = nil, retryAfter: TimeInterval? = nil) {
        self.remaining = remaining
        self.resetAt = resetAt
        self.retryAfter = retryAfter
    }

    /// Reads the headers `names` lists from `headers`; nil when none of them is present and readable.
    ///
    /// A reset value is read as a Unix time when it is that large, as seconds from now when it is a small number, and
    /// otherwise as an RFC 3339 or HTTP date. A `Retry-After` is seconds or an HTTP date.
    public static func read(
        _ headers: [(name: String, value: String)],
        names: RateLimitHeaders?,
        now: Date
    ) -> ProviderRateLimitSignal? {
        func value(_ name: String?) -> String? {
            guard let name else { return nil }
            return headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
                .trimmingCharacters(in: .whitespaces)
        }
        // `Retry-After` is standard: read it even when the catalog does not name it.
        let retryAfter = value(names?.retryAfter ?? "Retry-After").flatMap { delay($0, now: now) }
        let remaining = value(names?.remaining).flatMap { Int($0) ?? Double($0).map { Int($0) } }
        let resetAt = value(names?.reset).flatMap { moment($0, now: now) }
        guard remaining != nil || resetAt != nil || retryAfter != nil else { return nil }
        return ProviderRateLimitSignal(remaining: remaining.map { max(0, $0) }, resetAt: resetAt, retryAfter: retryAfter)
    }

    /// Seconds to wait from a `Retry-After` value (seconds or an HTTP date); nil when unreadable.
    static func delay(_ text: String, now: Date) -> TimeInterval? {
        if let seconds = Double(text), seconds.isFinite { return max(0, seconds) }
        return httpDate(text).map { max(0, $0.timeIntervalSince(now)) }
    }

    /// A reset time: Unix seconds (or milliseconds), seconds from now, an RFC 3339 time or an HTTP date.
    static func moment(_ text: String, now: Date) -> Date? {
        if let number = Double(text), number.isFinite, number >= 0 {
            if number >= 100_000_000_000 { return Date(timeIntervalSince1970: number / 1000) }
            if number >= 1_000_000_000 { return Date(timeIntervalSince1970: number) }
            return now.addingTimeInterval(number)
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text) ?? httpDate(text)
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    /// Seconds from `now` until calls may go on again, as the provider said it: its `Retry-After`, else the reset
    /// time when nothing is left. Nil when it did not say.
    public func waitSeconds(now: Date) -> TimeInterval? {
        if let retryAfter { return retryAfter }
        if let resetAt, remaining == 0 { return max(0, resetAt.timeIntervalSince(now)) }
        return nil
    }
}
