public import Foundation
public import LatchkeyCore
import Metrics
import NIOCore
import PostgresNIO
import Synchronization

/// Whether the database answers, as this process last saw it, for degraded mode (README, "When the database is
/// unreachable"): while it does not, the token path serves credentials it resolved in the last minutes
/// (`CredentialCache`), callers it authenticated (`KeyCache`) and holds its audit events (`AuditWriter`), instead of
/// waiting on a connection pool that is retrying.
///
/// A database operation that fails because no connection could be had or kept marks it unreachable; a probe
/// (`Database.probe`) marks it reachable again. Reads on the token path do not wait longer than `deadline` for an
/// answer while it is reachable, and do not ask at all while it is not.
public final class DatabaseAvailability: Sendable {
    private struct State {
        var unreachableSince: Date?
        var simulated = false
    }

    private let state = Mutex(State())
    private let handlers = Mutex<[@Sendable () async -> Void]>([])
    private let unreachable = Atomic<Bool>(false)
    /// How long a token-path read waits for an answer before the database counts as unreachable.
    public let deadline: Duration
    private let settings = Mutex(DegradedMode())

    /// What degraded mode may use: how old a resolved credential or authenticated key may be, and how many audit
    /// events may wait in memory (`LATCHKEY_DEGRADED_TTL`, `LATCHKEY_DEGRADED_AUDIT_HOLD`).
    public struct DegradedMode: Sendable, Equatable {
        /// Seconds; 0 turns degraded mode off (calls are refused while the database is unreachable). At most 300.
        public var lifetime: TimeInterval
        /// Audit events held while the database is unreachable; a call whose event finds no room is refused.
        public var heldAuditEvents: Int

        public init(lifetime: TimeInterval = 120, heldAuditEvents: Int = 10_000) {
            self.lifetime = lifetime
            self.heldAuditEvents = heldAuditEvents
        }
    }

    public var degradedMode: DegradedMode {
        get { settings.withLock { $0 } }
        set { settings.withLock { $0 = newValue } }
    }

    init(deadline: Duration = .seconds(2)) {
        self.deadline = deadline
    }

    /// False from the first failed connection until a probe answers again.
    public var isReachable: Bool { !unreachable.load(ordering: .relaxed) }

    /// When this outage began; nil while the database is reachable.
    public var unreachableSince: Date? { state.withLock { $0.unreachableSince } }

    func markUnreachable(now: Date = Date()) {
        state.withLock { state in
            if state.unreachableSince == nil { state.unreachableSince = now }
        }
        unreachable.store(true, ordering: .releasing)
        Self.record(reachable: false)
    }

    /// Exports the current state (`latchkey_database_reachable`, and no audit events held yet), once metrics are set up.
    public func recordReachable() {
        Self.record(reachable: isReachable)
        Gauge(label: "latchkey_audit_events_held").record(0)
    }

    static func record(reachable: Bool) {
        Gauge(label: "latchkey_database_reachable").record(reachable ? 1 : 0)
    }

    func markReachable() {
        let simulated = state.withLock { state -> Bool in
            guard !state.simulated else { return true }
            state.unreachableSince = nil
            return false
        }
        guard !simulated, unreachable.exchange(false, ordering: .acquiringAndReleasing) else { return }
        Self.record(reachable: true)
        recovered()
    }

    /// Runs `handler` each time an outage ends (held audit events are written then).
    public func onRecovery(_ handler: @escaping @Sendable () async -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    private func recovered() {
        let handlers = handlers.withLock { $0 }
        guard !handlers.isEmpty else { return }
        Task {
            for handler in handlers { await handler() }
        }
    }

    /// While `on`, every operation fails as if the database were down (the tests of degraded mode).
    func simulate(unreachable on: Bool) {
        state.withLock { state in
            state.simulated = on
            state.unreachableSince = on ? (state.unreachableSince ?? Date()) : nil
        }
        Self.record(reachable: !on)
        if unreachable.exchange(on, ordering: .acquiringAndReleasing), !on { recovered() }
    }

    var isSimulated: Bool { state.withLock { $0.simulated } }

    /// True when `error` says that no connection to the database could be had or kept, so that the operation did
    /// not reach it (or its outcome is unknown because the connection broke): the errors that begin an outage.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if error is DatabaseUnreachable { return true }
        if let error = error as? PSQLError {
            return [PSQLError.Code.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed]
                .contains(error.code)
        }
        if error is ChannelError || error is IOError { return true }
        let name = String(describing: type(of: error))
        return name == "ConnectionPoolError"
    }
}

/// The database did not answer: its connections failed, or it did not answer within the token path's deadline, or
/// it is known to be down. Becomes 503 `unavailable` for the caller, with when to try again.
public struct DatabaseUnreachable: Error, Sendable, CustomStringConvertible {
    public var description: String { "the database is unreachable" }

    /// What a caller is told.
    public static var error: LatchkeyError {
        LatchkeyError(
            .unavailable,
            "Latchkey's database is unreachable. This is usually brief: try again in a few seconds.",
            retryAfter: 5
        )
    }
}
