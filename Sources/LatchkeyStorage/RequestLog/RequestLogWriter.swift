import Foundation
public import LatchkeyCore
public import Logging
import SQLKit
public import ServiceLifecycle
import Synchronization

/// Appends request-log entries off the hot path. A route hands its entry over and goes on at once: it waits for
/// neither the database nor the other entries. Entries queued meanwhile are written together by one background
/// drain, one multi-row `INSERT` per batch (like `AuditWriter`'s group commit, without making the caller wait).
///
/// Why the route does not wait: the audit event is the record that must exist before an answer goes out; the
/// request log is for looking at traffic (who called, what failed, how slow). Waiting on it would add a second
/// write to every token call's latency for no guarantee a caller needs. The price is that the last entries of an
/// instance that crashes are lost, and that an entry shows up in `GET /api/v1/requests` a moment after its answer
/// (the list route calls ``flush()`` first, so an instance always lists its own entries). When the database falls
/// far behind, entries beyond `capacity` are dropped, with a warning, instead of growing memory without bound.
/// While the database is unreachable (degraded mode) entries are kept, within `capacity`, and written when it answers.
public final class RequestLogWriter: Sendable {
    let repository: RequestLogRepository
    let database: Database
    let logger: Logger
    let maximumBatch: Int
    let capacity: Int

    private struct State: ~Copyable {
        var pending: [RequestLogEntry] = []
        var draining = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var dropped = 0
    }

    private let state = Mutex(State())
    /// Which app each Connection belongs to (it never changes), learned per batch for entries that name a
    /// Connection but not an app.
    private let appOfConnection = Mutex<[String: String]>([:])

    public init(database: Database, logger: Logger, maximumBatch: Int = 200, capacity: Int = 10_000) {
        self.database = database
        self.repository = RequestLogRepository(database: database)
        self.logger = logger
        self.maximumBatch = maximumBatch
        self.capacity = capacity
        database.availability.onRecovery { [weak self] in self?.resume() }
    }

    /// Starts a drain for the entries kept through an outage.
    private func resume() {
        let start = state.withLock { state -> Bool in
            guard !state.pending.isEmpty, !state.draining else { return false }
            state.draining = true
            return true
        }
        if start { Task { await self.drain() } }
    }

    /// Puts a batch that met an unreachable database back in front, within `capacity`, and ends this drain: the
    /// outage's end starts the next (`resume`).
    private func keep(_ batch: [RequestLogEntry]) {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.pending.insert(contentsOf: batch, at: 0)
            if state.pending.count > capacity {
                state.dropped += state.pending.count - capacity
                state.pending.removeLast(state.pending.count - capacity)
            }
            state.draining = false
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in resumed { waiter.resume() }
    }

    /// Queues `entry` to be written; returns at once, without suspending.
    public func record(_ entry: RequestLogEntry) {
        let (start, dropped) = state.withLock { state -> (Bool, Int?) in
            guard state.pending.count < capacity else {
                state.dropped += 1
                return (false, state.dropped)
            }
            state.pending.append(entry)
            guard !state.draining else { return (false, nil) }
            state.draining = true
            return (true, nil)
        }
        if let dropped, dropped == 1 || dropped.isMultiple(of: 1000) {
            logger.warning("request log is behind; entries dropped", metadata: ["dropped": "\(dropped)"])
        }
        if start { Task { await self.drain() } }
    }

    /// Returns once every entry recorded before the call has been written (or failed to be).
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                guard state.draining || !state.pending.isEmpty else { return true }
                state.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// How long the writer gathers entries before a batch that is not full: the log is not awaited by the routes,
    /// and writing it once a tenth of a second instead of after every call keeps SQLite's one writer free for
    /// what is awaited (audit events, credentials). `flush()` does not wait for it.
    static let gathering: Duration = .milliseconds(100)

    /// Writes batches until the queue is empty; only one drain runs at a time.
    private func drain() async {
        while true {
            let gather = state.withLock { $0.waiters.isEmpty && $0.pending.count < maximumBatch }
            if gather { try? await Task.sleep(for: Self.gathering) }
            let (taken, resumed) = state.withLock { state -> ([RequestLogEntry], [CheckedContinuation<Void, Never>]) in
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                guard batch.isEmpty else { return (batch, []) }
                state.draining = false
                defer { state.waiters = [] }
                return ([], state.waiters)
            }
            guard !taken.isEmpty else {
                for waiter in resumed { waiter.resume() }
                return
            }
            var batch = taken
            guard database.availability.isReachable else { return keep(batch) }
            do {
                try await fillApps(&batch)
                try await repository.insert(batch)
            } catch is DatabaseUnreachable {
                return keep(batch)
            } catch {
                logger.error(
                    "request log entries could not be written",
                    metadata: ["count": "\(batch.count)", "error": "\(Database.describe(error))"]
                )
            }
        }
    }

    /// Sets the app of entries that name only their Connection.
    private func fillApps(_ batch: inout [RequestLogEntry]) async throws {
        let named = Set(batch.compactMap { $0.appID == nil ? $0.connectionID : nil })
        let unknown = appOfConnection.withLock { named.subtracting($0.keys) }
        if !unknown.isEmpty {
            let rows = try await database.read { db in
                try await db.raw("SELECT id, app_id FROM connections WHERE id IN (\(binds: Array(unknown)))").all()
            }
            let learned = try rows.map { (try $0.string("id"), try $0.string("app_id")) }
            appOfConnection.withLock { known in
                if known.count > 50_000 { known = [:] }
                for (connection, app) in learned { known[connection] = app }
            }
        }
        let known = appOfConnection.withLock { $0 }
        for index in batch.indices where batch[index].appID == nil {
            if let connection = batch[index].connectionID { batch[index].appID = known[connection] }
        }
    }
}

/// Run beside the server (before the database in the service list, so after it on the way down): at graceful
/// shutdown, the entries still queued are written before the database closes.
extension RequestLogWriter: Service {
    public nonisolated func run() async throws {
        try? await gracefulShutdown()
        await flush()
    }
}
