public import Foundation

/// The source of "now" and of waiting, injected everywhere time matters so that tests can drive it.
public protocol LatchkeyClock: Sendable {
    /// The current wall-clock time.
    var now: Date { get }
    /// Suspends the caller for `duration` of this clock's time.
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemClock: LatchkeyClock {
    public init() {}
    public var now: Date { Date() }
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

extension Date {
    /// Milliseconds since the Unix epoch, the form every timestamp is stored in.
    public var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(unixMilliseconds) / 1000)
    }
}

/// The source of the random spreads and jitters (refresh times, retry delays), injected beside the clock so that
/// tests can pin them.
public protocol RandomSource: Sendable {
    /// A value in `0...1`.
    func unit() -> Double
}

/// The system's random number generator.
public struct SystemRandom: RandomSource {
    public init() {}
    public func unit() -> Double { Double.random(in: 0...1) }
}
