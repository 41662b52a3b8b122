public import Foundation
public import LatchkeyCore
public import SQLKit

/// Progress of moving rows to a data-key version, saved so that a killed process resumes where it stopped.
public struct RewrapProgress: Sendable, Equatable {
    public var targetVersion: Int
    public var cursor: String
    public var done: Int
    public var total: Int
    public var startedAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
}

/// The keyring table, the key-check value and the active data-key version.
public struct KeyringRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func setting(_ key: String) async throws -> String? {
        try await database.read { db in
            try await db.raw("SELECT value FROM settings WHERE key = \(bind: key)").first()?.string("value")
        }
    }

    public func setSetting(_ key: String, _ value: String, on db: (any SQLDatabase)? = nil) async throws {
        let statement: (any SQLDatabase) async throws -> Void = { db in
            try await db.raw(
                "INSERT INTO settings (key, value) VALUES (\(bind: key), \(bind: value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).run()
        }
        if let db { try await statement(db) } else { try await database.write(statement) }
    }

    public func keys() async throws -> [WrappedKey] {
        try await database.read { db in
            try await db.raw("SELECT purpose, version, wrapped, created_at FROM keyring ORDER BY purpose, version").all().map { row in
                guard let purpose = WrappedKey.Purpose(rawValue: try row.string("purpose")) else {
                    throw KeyError(description: "The keyring has a row of unknown purpose.")
                }
                return WrappedKey(
                    purpose: purpose,
                    version: try row.int("version"),
                    wrapped: try row.data("wrapped"),
                    createdAt: try row.date("created_at")
                )
            }
        }
    }

    public func insert(_ key: WrappedKey, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO keyring (purpose, version, wrapped, created_at)
            VALUES (\(bind: key.purpose.rawValue), \(bind: key.version), \(bind: key.wrapped), \(bind: key.createdAt.ms))
            """
        ).run()
    }

    public func replaceWrapped(_ key: WrappedKey, on db: any SQLDatabase) async throws {
        try await db.raw(
            "UPDATE keyring SET wrapped = \(bind: key.wrapped) WHERE purpose = \(bind: key.purpose.rawValue) AND version = \(bind: key.version)"
        ).run()
    }

    /// How many encrypted rows there are (to tell a fresh database from one whose key went missing).
    public func encryptedRowCount() async throws -> Int {
        try await database.read { db in
            let credentials = try await db.raw("SELECT COUNT(*) AS n FROM credentials").first()?.int("n") ?? 0
            let keys = try await db.raw("SELECT COUNT(*) AS n FROM keyring").first()?.int("n") ?? 0
            return credentials + keys
        }
    }

    /// The credentials' re-wrap progress.
    public func rewrapProgress() async throws -> RewrapProgress? {
        try await rewrapProgress(of: Self.credentialsProgress)
    }

    /// The `key_rewrap` row of the credentials; other sealed columns each have theirs, named `table.column`.
    static let credentialsProgress = "credentials"

    func rewrapProgress(of id: String) async throws -> RewrapProgress? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT * FROM key_rewrap WHERE id = \(bind: id)").first() else { return nil }
            return RewrapProgress(
                targetVersion: try row.int("target_version"),
                cursor: try row.string("cursor"),
                done: try row.int("done"),
                total: try row.int("total"),
                startedAt: try row.date("started_at"),
                updatedAt: try row.date("updated_at"),
                finishedAt: try row.optionalDate("finished_at")
            )
        }
    }

    public func saveRewrapProgress(_ progress: RewrapProgress, on db: any SQLDatabase) async throws {
        try await saveRewrapProgress(progress, of: Self.credentialsProgress, on: db)
    }

    func saveRewrapProgress(_ progress: RewrapProgress, of id: String, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO key_rewrap (id, target_version, cursor, done, total, started_at, updated_at, finished_at)
            VALUES (\(bind: id), \(bind: progress.targetVersion), \(bind: progress.cursor), \(bind: progress.done), \(bind: progress.total),
              \(bind: progress.startedAt.ms), \(bind: progress.updatedAt.ms), \(bind: progress.finishedAt?.ms))
            ON CONFLICT (id) DO UPDATE SET target_version = excluded.target_version, cursor = excluded.cursor, done = excluded.done,
              total = excluded.total, started_at = excluded.started_at, updated_at = excluded.updated_at, finished_at = excluded.finished_at
            """
        ).run()
    }

    /// Sealed values per data-key version, across every encrypted column (a row with two sealed values counts twice).
    public func countsByVersion() async throws -> [Int: Int] {
        try await database.read { db in try await countsByVersion(on: db) }
    }

    func countsByVersion(on db: any SQLDatabase) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for row in try await db.raw("SELECT key_version, COUNT(*) AS n FROM credentials GROUP BY key_version").all() {
            counts[try row.int("key_version"), default: 0] += try row.int("n")
        }
        let sealed = SealedColumnRepository(database: database)
        for column in SealedColumn.all {
            for (version, count) in try await sealed.countsByVersion(column, on: db) { counts[version, default: 0] += count }
        }
        return counts
    }
}
