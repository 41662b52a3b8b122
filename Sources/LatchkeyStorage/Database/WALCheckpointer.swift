import Logging
import SQLiteKit
import Synchronization

/// Copies SQLite's write-ahead log back into the database file in the background, on a connection of its own, a
/// moment after writes, so that no commit a caller waits for pays for it. Left to SQLite, the checkpoint runs inside
/// the commit that crosses the log's size limit, and the calls waiting on that commit (the audit group commit of
/// token hand-outs) wait for all of it. A passive checkpoint blocks neither readers nor the writer. The writer keeps
/// SQLite's own checkpoint as a safety net for a log that grows past `writerLimitPages` all the same.
final class WALCheckpointer: Sendable {
    /// How long after a write the log is checkpointed (at most once per interval).
    static let interval: Duration = .milliseconds(200)
    /// The writer's `wal_autocheckpoint`: far above what the background checkpoint lets the log reach.
    static let writerLimitPages = 10_000

    private let connection: SQLiteConnection
    private let logger: Logger
    private let writes = Atomic<UInt64>(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Starts checkpointing; `stop()` ends it.
    func start() {
        let started = Task { await self.loop() }
        task.withLock { $0 = started }
    }

    /// Notes that a write ended: the next round checkpoints.
    func noteWrite() { writes.add(1, ordering: .relaxed) }

    /// Ends checkpointing and closes its connection (closing the last connection checkpoints what is left).
    func stop() async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
        do {
            try await connection.close()
        } catch {
            logger.error("closing the SQLite checkpoint connection failed", metadata: ["error": "\(error)"])
        }
    }

    private func loop() async {
        var seen: UInt64 = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.interval)
            // Stopped (the database is closing, e.g. at the end of a CLI command): no last checkpoint, no warning.
            if Task.isCancelled { return }
            let current = writes.load(ordering: .relaxed)
            guard current != seen else { continue }
            seen = current
            do {
                _ = try await connection.query("PRAGMA wal_checkpoint(PASSIVE)")
            } catch is CancellationError {
                return
            } catch {
                logger.warning("SQLite checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
