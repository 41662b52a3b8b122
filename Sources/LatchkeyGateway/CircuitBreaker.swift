public import Foundation
public import LatchkeyCore

/// One circuit per integration: after `threshold` consecutive failures the provider is left alone for
/// `openInterval`, then a single trial call decides whether calls resume. In-process: each instance keeps its own.
public actor CircuitBreaker {
    public enum Decision: Sendable, Equatable {
        case allowed
        /// The one trial call after the circuit was open.
        case trial
        /// Calls are paused; try again after this many seconds.
        case open(retryAfter: Int)
    }

    struct State {
        var failures = 0
        var openUntil: Date?
        var trialInFlight = false
    }

    let clock: any LatchkeyClock
    public let threshold: Int
    public let openInterval: TimeInterval
    private var states: [String: State] = [:]

    public init(clock: any LatchkeyClock, threshold: Int = 5, openInterval: TimeInterval = 30) {
        self.clock = clock
        self.threshold = threshold
        self.openInterval = openInterval
    }

    public func decide(_ key: String) -> Decision {
        var state = states[key] ?? State()
        defer { states[key] = state }
        guard let openUntil = state.openUntil else { return .allowed }
        let now = clock.now
        if now < openUntil { return .open(retryAfter: max(1, Int(openUntil.timeIntervalSince(now).rounded(.up)))) }
        if state.trialInFlight { return .open(retryAfter: 1) }
        state.trialInFlight = true
        return .trial
    }

    public func recordSuccess(_ key: String) {
        states[key] = State()
    }

    public func recordFailure(_ key: String) {
        var state = states[key] ?? State()
        state.failures += 1
        state.trialInFlight = false
        if state.failures >= threshold { state.openUntil = clock.now.addingTimeInterval(openInterval) }
        states[key] = state
    }

    /// Whether calls to `key` are paused right now.
    public func isOpen(_ key: String) -> Bool {
        guard let until = states[key]?.openUntil else { return false }
        return clock.now < until
    }
}
