import Foundation
public import LatchkeyCore
public import Logging
import SQLKit
public import ServiceLifecycle

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
public actor RequestLogWriter {
    let repository: RequestLogRepository
    let database: Database
    let logger: Logger
    let maximumBatch: Int
    let capacity: Int
    private var pending: [RequestLogEntry] = []
    private var draining = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var dropped = 0
    /// Which app each Connection belongs to (it never changes), learned per batch for entries that name a
    /// Connection but not an app.
    private var appOfConnection: [String: String] = [:]

    public init(database: Database, logger: Logger, maximumBatch: Int = 200, capacity: Int = 10_000) {
        self.database = database
        self.repository = RequestLogRepository(database: database)
        self.logger = logger
        self.maximumBatch = maximumBatch
        self.capacity = capacity
    }

    /// Queues `entry` to be written; returns at once.
    public func record(_ entry: RequestLogEntry) {
        guard pending.count < capacity else {
            dropped += 1
            if dropped == 1 || dropped.isMultiple(of: 1000) {
                logger.warning("request log is behind; entries dropped", metadata: ["dropped": "\(dropped)"])
            }
            return
        }
        pending.append(entry)
        if !draining {
            draining = true
            Task { await self.drain() }
        }
    }

    /// Returns once every entry recorded before the call has been written (or failed to be).
    public func flush() async {
        guard draining || !pending.isEmpty else { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// How long the writer gathers entries before a batch that is not full: the log is not awaited by the routes,
    /// and writing it once a tenth of a second instead of after every call keeps SQLite's one writer free for
    /// what is awaited (audit events, credentials). `flush()` does not wait for it.
    static let gathering: Duration = .milliseconds(100)

    private func drain() async {
        while !pending.isEmpty {
            if waiters.isEmpty, pending.count < maximumBatch {
                try? await Task.sleep(for: Self.gathering)
            }
            var batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            do {
                try await fillApps(&batch)
                try await repository.insert(batch)
            } catch {
                logger.error(
                    "request log entries could not be written",
                    metadata: ["count": "\(batch.count)", "error": "\(Database.describe(error))"]
                )
            }
        }
        draining = false
        let resumed = waiters
        waiters = []
        for waiter in resumed { waiter.resume() }
    }

    /// Sets the app of entries that name only their Connection.
    private func fillApps(_ batch: inout [RequestLogEntry]) async throws {
        let unknown = Set(batch.compactMap { $0.appID == nil ? $0.connectionID : nil }).subtracting(appOfConnection.keys)
        if !unknown.isEmpty {
            if appOfConnection.count > 50_000 { appOfConnection = [:] }
            let rows = try await database.read { db in
                try await db.raw("SELECT id, app_id FROM connections WHERE id IN (\(binds: Array(unknown)))").all()
            }
            for row in rows { appOfConnection[try row.string("id")] = try row.string("app_id") }
        }
        for index in batch.indices where batch[index].appID == nil {
            if let connection = batch[index].connectionID { batch[index].appID = appOfConnection[connection] }
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
