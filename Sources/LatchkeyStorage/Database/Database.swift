import Foundation
public import Logging
import NIOCore
import NIOPosix
import PostgresKit
import PostgresNIO
public import SQLKit
import SQLiteKit
public import ServiceLifecycle
import Synchronization

/// One database for the whole process, SQLite or PostgreSQL, behind three seams: `read`, `write` and
/// `transaction`. Repositories are written once against `any SQLDatabase`; the few dialect differences live here.
public final class Database: Service, Sendable {
    public enum Kind: String, Sendable { case sqlite, postgres }

    public let kind: Kind
    public let configuration: DatabaseConfiguration
    let logger: Logger
    private let backend: Backend
    private let generation = Atomic<UInt64>(0)
    /// Whether the database answers (degraded mode); see `DatabaseAvailability`.
    public let availability = DatabaseAvailability()
    let prober = Mutex<Task<Void, Never>?>(nil)

    /// Goes up after every `write` and `transaction` of this process has finished (committed, rolled back or
    /// failed), except those that say they change nothing a cache holds (`invalidatesCaches: false`). A value read
    /// before a read started and still current afterwards proves that no write of this process ended in between, so
    /// what that read found is still what the database holds, as far as this process's writes go. In-process caches
    /// (`CredentialCache`) tag what they keep with it.
    public var writeGeneration: UInt64 { generation.load(ordering: .acquiring) }

    /// After a write: moves `writeGeneration` on (unless it changed nothing a cache holds) and tells SQLite's
    /// background checkpoint.
    private func wrote(_ invalidatesCaches: Bool = true) {
        if invalidatesCaches { generation.add(1, ordering: .releasing) }
        if case .sqlite(_, _, _, _, let checkpointer) = backend { checkpointer.noteWrite() }
    }

    private enum Backend: Sendable {
        case sqlite(writer: SQLiteConnection, readers: [SQLiteConnection], lock: AsyncLock, counter: RoundRobin, checkpointer: WALCheckpointer)
        case postgres(client: PostgresClient, runner: Task<Void, Never>, schema: String?)
    }

    /// SQLite reads the database file through a memory map (up to 1 GiB of it) instead of a `read` call per page: every
    /// write makes the other connections drop their page caches, so on a busy server readers would otherwise copy the
    /// same pages from the kernel again and again.
    static let sqliteMemoryMap = "PRAGMA mmap_size=1073741824"

    /// Opens the database. For PostgreSQL the connection pool starts running at once, so the database can be used
    /// before (and without) a service group; `close()` or a graceful shutdown stops it.
    public static func open(_ configuration: DatabaseConfiguration, logger: Logger) async throws -> Database {
        switch configuration {
        case .sqlite(let path):
            try Self.prepareSQLiteFiles(path: path, logger: logger)
            var opened: [SQLiteConnection] = []
            do {
                let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                opened.append(writer)
                for pragma in [
                    "PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                    "PRAGMA wal_autocheckpoint=\(WALCheckpointer.writerLimitPages)", Self.sqliteMemoryMap,
                ] {
                    _ = try await writer.query(pragma)
                }
                // Two readers, then the checkpoint's own connection.
                for _ in 0..<3 {
                    let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                    opened.append(reader)
                    _ = try await reader.query("PRAGMA busy_timeout=10000")
                    _ = try await reader.query(Self.sqliteMemoryMap)
                }
            } catch {
                for connection in opened { try? await connection.close() }
                throw DatabaseError.unavailable("SQLite at \(path) (\(error))")
            }
            let writer = opened[0]
            let readers = Array(opened[1...2])
            let checkpointer = WALCheckpointer(connection: opened[3], logger: logger)
            checkpointer.start()
            return Database(
                kind: .sqlite,
                configuration: configuration,
                logger: logger,
                backend: .sqlite(writer: writer, readers: readers, lock: AsyncLock(), counter: RoundRobin(), checkpointer: checkpointer)
            )
        case .postgres(let settings):
            let tls: PostgresClient.Configuration.TLS =
                switch settings.tlsMode {
                case "disable": .disable
                case "require": .require(.makeClientConfiguration())
                default: .prefer(.makeClientConfiguration())
                }
            var config = PostgresClient.Configuration(
                host: settings.host,
                port: settings.port,
                username: settings.username,
                password: settings.password,
                database: settings.database,
                tls: tls
            )
            config.options.maximumConnections = 16
            if let schema = settings.schema {
                config.options.additionalStartupParameters = [("search_path", schema)]
            }
            let client = PostgresClient(configuration: config, backgroundLogger: logger)
            let runner = Task { await client.run() }
            // Give the pool's run loop a chance to start before the first lease (it warns otherwise).
            for _ in 0..<20 { await Task.yield() }
            let database = Database(
                kind: .postgres,
                configuration: configuration,
                logger: logger,
                backend: .postgres(client: client, runner: runner, schema: settings.schema)
            )
            do {
                if let schema = settings.schema {
                    do {
                        try await database.write { try await $0.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run() }
                    } catch  where isUniqueViolation(error) {
                        // Created by another instance at the same moment.
                    }
                } else {
                    try await database.read { try await $0.raw("SELECT 1").run() }
                }
            } catch {
                runner.cancel()
                throw DatabaseError.unavailable("\(settings.host):\(settings.port) (\(Self.describe(error)))")
            }
            return database
        }
    }

    private init(kind: Kind, configuration: DatabaseConfiguration, logger: Logger, backend: Backend) {
        self.kind = kind
        self.configuration = configuration
        self.logger = logger
        self.backend = backend
    }

    /// Runs `body` with a connection meant for reading.
    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await guarded(invalidatesCaches: nil) { try await readConnection(body) }
    }

    /// `read` without the outage check (the probe's own read).
    func readConnection<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(_, let readers, _, let counter, _):
            return try await body(readers[counter.next() % readers.count].sql(queryLogLevel: nil))
        case .postgres(let client, _, _):
            return try await client.withConnection { try await body($0.sql(queryLogLevel: nil)) }
        }
    }

    /// Runs `body` with a connection meant for writing, outside a transaction (each statement commits on its own).
    /// `invalidatesCaches: false` only for writes that change nothing an in-process cache holds (see `writeGeneration`).
    public func write<T: Sendable>(invalidatesCaches: Bool = true, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await guarded(invalidatesCaches: invalidatesCaches) {
            switch backend {
            case .sqlite(let writer, _, let lock, _, _):
                return try await lock.withLock { try await body(writer.sql(queryLogLevel: nil)) }
            case .postgres(let client, _, _):
                return try await client.withConnection { try await body($0.sql(queryLogLevel: nil)) }
            }
        }
    }

    /// Runs `body` in one transaction (SQLite: `BEGIN IMMEDIATE`, so writers queue instead of failing later).
    /// An error thrown by `body` rolls back and is rethrown as it was. `invalidatesCaches: false` only for
    /// transactions that change nothing an in-process cache holds (the audit group commit; see `writeGeneration`).
    public func transaction<T: Sendable>(invalidatesCaches: Bool = true, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await guarded(invalidatesCaches: invalidatesCaches) {
            switch backend {
            case .sqlite(let writer, _, let lock, _, _):
                return try await lock.withLock {
                    let db = writer.sql(queryLogLevel: nil)
                    try await db.raw("BEGIN IMMEDIATE").run()
                    do {
                        let result = try await body(db)
                        try await db.raw("COMMIT").run()
                        return result
                    } catch {
                        try? await db.raw("ROLLBACK").run()
                        throw error
                    }
                }
            case .postgres(let client, _, _):
                do {
                    return try await client.withTransaction(logger: logger) { connection in
                        try await body(connection.sql(queryLogLevel: nil))
                    }
                } catch let error as PostgresTransactionError {
                    throw error.closureError ?? error.beginError ?? error.commitError ?? error
                }
            }
        }
    }

    /// Runs one operation. While the database is known to be unreachable it is refused at once (the probe notices the
    /// end of the outage within a second), instead of waiting on a connection pool that keeps failing to connect.
    /// A failure to get or keep a connection marks the database unreachable (and starts probing it) and is thrown as
    /// `DatabaseUnreachable`; such a write changed nothing this process can know of, so it does not move
    /// `writeGeneration` (cached rows stay usable for degraded mode). `invalidatesCaches` nil for reads.
    private func guarded<T>(invalidatesCaches: Bool?, _ operation: () async throws -> T) async throws -> T {
        guard availability.isReachable else { throw DatabaseUnreachable() }
        do {
            let result = try await operation()
            if let invalidatesCaches { wrote(invalidatesCaches) }
            return result
        } catch  where DatabaseAvailability.isConnectionFailure(error) {
            becameUnreachable()
            throw DatabaseUnreachable()
        } catch {
            if let invalidatesCaches { wrote(invalidatesCaches) }
            throw error
        }
    }

    /// Drops a PostgreSQL schema and everything in it (test isolation).
    public func dropSchema(_ schema: String) async throws {
        guard kind == .postgres else { return }
        try await write { try await $0.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run() }
    }

    /// A trivial query, for readiness checks.
    public func ping() async throws {
        try await read { try await $0.raw("SELECT 1 AS ok").run() }
    }

    /// `FOR UPDATE` on PostgreSQL; nothing on SQLite, where `BEGIN IMMEDIATE` already serializes writers.
    public var forUpdate: String { kind == .postgres ? " FOR UPDATE" : "" }

    /// Serializes schema changes across instances starting at once (PostgreSQL advisory lock).
    func withMigrationLock<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        defer { wrote() }
        switch backend {
        case .sqlite(let writer, _, let lock, _, _):
            return try await lock.withLock { try await body(writer.sql(queryLogLevel: nil)) }
        case .postgres(let client, _, _):
            return try await client.withConnection { connection in
                let db = connection.sql(queryLogLevel: nil)
                try await db.raw("SELECT pg_advisory_lock(7264031)").run()
                do {
                    let result = try await body(db)
                    try await db.raw("SELECT pg_advisory_unlock(7264031)").run()
                    return result
                } catch {
                    try? await db.raw("SELECT pg_advisory_unlock(7264031)").run()
                    throw error
                }
            }
        }
    }

    /// True when `error` is a unique-constraint violation.
    public static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        if let error = error as? SQLiteError { return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed }
        return false
    }

    /// A description for logs only (PostgreSQL's own message is behind `String(reflecting:)`).
    public static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            return error.serverInfo?[.message] ?? "\(error.code)"
        }
        return String(describing: error)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes every connection.
    public func close() async {
        prober.withLock { $0?.cancel() }
        switch backend {
        case .sqlite(let writer, let readers, let lock, _, let checkpointer):
            await Task { await checkpointer.stop() }.value
            await lock.withLock {
                // Closing must happen even when the caller is being cancelled (graceful shutdown).
                let connections = readers + [writer]
                await Task {
                    for connection in connections {
                        do {
                            try await connection.close()
                        } catch {
                            logger.error("closing an SQLite connection failed", metadata: ["error": "\(error)"])
                        }
                    }
                }.value
            }
        case .postgres(_, let runner, _):
            runner.cancel()
            _ = await runner.value
        }
    }
}

/// A round-robin counter.
final class RoundRobin: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue & Int.max }
}
