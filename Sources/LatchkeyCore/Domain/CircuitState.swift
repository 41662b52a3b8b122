public import Foundation

/// The circuit of one integration, as every instance sees it (DESIGN §4): consecutive provider failures, whether
/// calls are paused, and who holds the one trial call that decides whether they resume. The rules are pure; the
/// store keeps the value in the database and changes it with a compare-and-set on `version`.
public struct CircuitState: Sendable, Equatable, Codable {
    /// Consecutive failures since the last success.
    public var failures: Int
    /// Calls are paused until then; stays set after it passes until a trial call succeeds.
    public var openUntil: Date?
    /// The instance running the trial call, and until when its claim holds (a claim is never permanent: an
    /// instance that dies mid-trial cannot pause a provider for good).
    public var trialOwner: String?
    public var trialUntil: Date?
    /// Row version for compare-and-set; 0 when no row exists yet.
    public var version: Int

    public init(failures: Int = 0, openUntil: Date? = nil, trialOwner: String? = nil, trialUntil: Date? = nil, version: Int = 0) {
        self.failures = failures
        self.openUntil = openUntil
        self.trialOwner = trialOwner
        self.trialUntil = trialUntil
        self.version = version
    }

    /// No failures, not paused: the state of an integration that never failed.
    public static let closed = CircuitState()

    /// Whether there is anything to reset after a success (the happy path writes nothing).
    public var isClean: Bool { failures == 0 && openUntil == nil && trialOwner == nil }

    /// Whether calls are paused right now (for health and metrics).
    public func isOpen(now: Date) -> Bool {
        guard let openUntil else { return false }
        return now < openUntil
    }
}

/// How many failures open a circuit and for how long.
public struct CircuitPolicy: Sendable, Equatable {
    public var threshold: Int
    public var openInterval: TimeInterval
    /// How long a trial claim holds: the provider timeout plus a margin.
    public var trialLength: TimeInterval

    public init(threshold: Int = 5, openInterval: TimeInterval = 30, trialLength: TimeInterval = 15) {
        self.threshold = threshold
        self.openInterval = openInterval
        self.trialLength = trialLength
    }

    /// What a caller may do now.
    public enum Decision: Sendable, Equatable {
        /// Call the provider.
        case closed
        /// The pause is over and nobody is trying: claim the trial call, then call.
        case trialAvailable
        /// Calls are paused; try again after this many seconds.
        case open(retryAfter: Int)
    }

    public func decide(_ state: CircuitState, owner: String, now: Date) -> Decision {
        guard let openUntil = state.openUntil else { return .closed }
        if now < openUntil { return .open(retryAfter: Self.seconds(until: openUntil, from: now)) }
        if let trialUntil = state.trialUntil, trialUntil > now, state.trialOwner != owner {
            return .open(retryAfter: Self.seconds(until: trialUntil, from: now))
        }
        return .trialAvailable
    }

    /// The state once `owner` holds the trial.
    public func claimingTrial(_ state: CircuitState, owner: String, now: Date) -> CircuitState {
        var next = state
        next.trialOwner = owner
        next.trialUntil = now.addingTimeInterval(trialLength)
        return next
    }

    /// The state after a provider failure: one more in a row; at the threshold (or when the trial failed) calls
    /// pause for `openInterval`.
    public func failing(_ state: CircuitState, now: Date) -> CircuitState {
        var next = state
        next.failures += 1
        next.trialOwner = nil
        next.trialUntil = nil
        if next.failures >= threshold { next.openUntil = now.addingTimeInterval(openInterval) }
        return next
    }

    /// The state after the provider answered (a token, or an OAuth error such as `invalid_grant`: it is up).
    public func succeeding(_ state: CircuitState) -> CircuitState {
        CircuitState(version: state.version)
    }

    /// The state when the trial ended without telling anything about the provider (nothing was called).
    public func releasingTrial(_ state: CircuitState, owner: String) -> CircuitState {
        guard state.trialOwner == owner else { return state }
        var next = state
        next.trialOwner = nil
        next.trialUntil = nil
        return next
    }

    static func seconds(until date: Date, from now: Date) -> Int {
        max(1, Int(date.timeIntervalSince(now).rounded(.up)))
    }
}
