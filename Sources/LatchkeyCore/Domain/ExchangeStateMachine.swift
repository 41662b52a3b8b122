public import Foundation

/// Where a one-time exchange stands: something handed out once (an OAuth `state` of a connect session, later an
/// authorization code) that is claimed exactly once, exchanged, and ends one way or another.
public enum ExchangeStatus: String, Sendable, CaseIterable {
    /// Waiting for its callback (or code redemption).
    case pending
    /// Claimed: one caller is exchanging it now; nobody else may.
    case exchanging
    case completed
    case failed
    /// Not claimed in time.
    case expired

    /// Nothing can happen to it any more.
    public var isFinal: Bool { self == .completed || self == .failed || self == .expired }
}

/// A move from one ``ExchangeStatus`` to another that the state machine allowed. Stores apply it fenced on `from`
/// (an update that finds the row in another state changes nothing and reports it), so two instances racing for the
/// same row cannot both move it: the machine decides what is legal, the store makes it atomic.
public struct ExchangeTransition: Sendable, Equatable {
    public var from: ExchangeStatus
    public var to: ExchangeStatus
    /// When the event happened (the injected clock).
    public var at: Date
    /// A claim (`pending → exchanging`) holds only while the attempt's deadline is still after `at`; a new attempt
    /// (`pending → pending`) sets this deadline. Nil otherwise.
    public var attemptDeadline: Date?
    /// Why it failed or expired, for the record; never shown as is and never secret.
    public var reason: String?

    public init(from: ExchangeStatus, to: ExchangeStatus, at: Date, attemptDeadline: Date? = nil, reason: String? = nil) {
        self.from = from
        self.to = to
        self.at = at
        self.attemptDeadline = attemptDeadline
        self.reason = reason
    }

    /// `pending → exchanging`: the one claim, which the store also fences on the attempt deadline.
    public var isClaim: Bool { from == .pending && to == .exchanging }
}

/// The rules of a one-time exchange, in one place and without I/O:
/// `pending → exchanging → completed | failed`, and `pending → expired` when it is not claimed in time.
///
/// A connect session is claimed by the provider's callback (its OAuth `state` is single use, 10 minutes); an
/// authorization code will be claimed by its redemption. With ``RetryPolicy/retryWhilePending`` (an app's connect
/// session, DESIGN §4) a denial at the provider sends the session back to `pending` without a live attempt, and it
/// stays usable for new attempts until its own expiry (30 minutes).
///
/// The driver feeds events with the injected clock's `now` and performs the returned ``Decision``: it writes a
/// ``ExchangeTransition`` through a store (fenced on its `from` state) or refuses with the ``Refusal``.
public struct ExchangeStateMachine: Sendable, Equatable {
    /// Whether a failed exchange may be tried again on the same session.
    public enum RetryPolicy: Sendable, Equatable {
        /// One attempt: the claim deadline is the session's, a failure is final (console connect, authorization codes).
        case singleAttempt
        /// A retryable failure (a denial at the provider) reopens the session until it expires (app connect sessions).
        case retryWhilePending
    }

    /// Why an event was refused; nothing is written.
    public enum Refusal: Error, Sendable, Equatable {
        /// Another caller claimed it and is exchanging it now.
        case inUse
        /// It already ended this way.
        case finished(ExchangeStatus)
        /// Pending, but without a live attempt (spent, or its deadline passed): a new attempt must start first.
        case noLiveAttempt
        /// Completing or failing something nobody claimed.
        case notClaimed
        /// A second attempt on a ``RetryPolicy/singleAttempt`` session.
        case singleAttempt
    }

    /// What the driver does next.
    public enum Decision: Sendable, Equatable {
        /// Write this transition; the event is accepted.
        case record(ExchangeTransition)
        /// Write this transition (`pending → expired`), then refuse the event as expired.
        case expire(ExchangeTransition)
        /// Refuse; write nothing.
        case refuse(Refusal)
    }

    private enum State: Sendable, Equatable {
        case pending(attemptDeadline: Date?)
        case exchanging
        case final(ExchangeStatus)
    }

    private var state: State
    /// The end of the whole session: after this nothing but expiry can happen.
    public let expiresAt: Date
    public let retry: RetryPolicy

    /// The machine for a stored row: its status, the deadline of its live attempt (nil when none) and its expiry.
    public init(status: ExchangeStatus, attemptDeadline: Date?, expiresAt: Date, retry: RetryPolicy = .singleAttempt) {
        switch status {
        case .pending: state = .pending(attemptDeadline: attemptDeadline)
        case .exchanging: state = .exchanging
        case .completed, .failed, .expired: state = .final(status)
        }
        self.expiresAt = expiresAt
        self.retry = retry
    }

    public var status: ExchangeStatus {
        switch state {
        case .pending: .pending
        case .exchanging: .exchanging
        case .final(let status): status
        }
    }

    // MARK: Events

    /// The callback (or redemption) arrived: the one caller that may exchange.
    public mutating func claim(now: Date) -> Decision {
        switch state {
        case .exchanging:
            return .refuse(.inUse)
        case .final(let status):
            return .refuse(.finished(status))
        case .pending(let deadline):
            if now >= expiresAt { return expire(now: now, reason: "expired") }
            guard let deadline, now < deadline else {
                // A single attempt that ran out is the end of the session; otherwise only the attempt is over.
                if retry == .singleAttempt { return expire(now: now, reason: "expired") }
                return .refuse(.noLiveAttempt)
            }
            state = .exchanging
            return .record(ExchangeTransition(from: .pending, to: .exchanging, at: now, attemptDeadline: deadline))
        }
    }

    /// The exchange succeeded.
    public mutating func complete(now: Date) -> Decision {
        switch state {
        case .pending: return .refuse(.notClaimed)
        case .final(let status): return .refuse(.finished(status))
        case .exchanging:
            state = .final(.completed)
            return .record(ExchangeTransition(from: .exchanging, to: .completed, at: now))
        }
    }

    /// The exchange failed. `retryable` failures (the person denied access at the provider) reopen a
    /// ``RetryPolicy/retryWhilePending`` session that has not expired; everything else ends it.
    public mutating func fail(reason: String, retryable: Bool = false, now: Date) -> Decision {
        switch state {
        case .pending: return .refuse(.notClaimed)
        case .final(let status): return .refuse(.finished(status))
        case .exchanging:
            if retryable, retry == .retryWhilePending, now < expiresAt {
                state = .pending(attemptDeadline: nil)
                return .record(ExchangeTransition(from: .exchanging, to: .pending, at: now, reason: reason))
            }
            state = .final(.failed)
            return .record(ExchangeTransition(from: .exchanging, to: .failed, at: now, reason: reason))
        }
    }

    /// A new attempt on a pending session (a new OAuth `state`), claimable until `deadline` (never past the
    /// session's expiry). A single-attempt session has its one attempt from the start.
    public mutating func beginAttempt(now: Date, deadline: Date) -> Decision {
        switch state {
        case .exchanging: return .refuse(.inUse)
        case .final(let status): return .refuse(.finished(status))
        case .pending(let current):
            if now >= expiresAt { return expire(now: now, reason: "expired") }
            guard retry == .retryWhilePending || current == nil else { return .refuse(.singleAttempt) }
            let deadline = min(deadline, expiresAt)
            state = .pending(attemptDeadline: deadline)
            return .record(ExchangeTransition(from: .pending, to: .pending, at: now, attemptDeadline: deadline))
        }
    }

    private mutating func expire(now: Date, reason: String) -> Decision {
        state = .final(.expired)
        return .expire(ExchangeTransition(from: .pending, to: .expired, at: now, reason: reason))
    }
}
