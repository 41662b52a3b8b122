public import Foundation
public import LatchkeyCore
public import SQLKit

/// A Connection's own rate budget (migration 16): `budget` calls per `windowSeconds`, in place of the catalog's
/// default for its provider.
public struct ConnectionRateLimit: Sendable, Equatable, Codable {
    public var budget: Int
    public var windowSeconds: Int
    public var updatedAt: Date

    public init(budget: Int, windowSeconds: Int, updatedAt: Date) {
        self.budget = budget
        self.windowSeconds = windowSeconds
        self.updatedAt = updatedAt
    }
}

/// Reads and writes the Connections' own rate budgets.
public struct ConnectionRateLimitRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The budget set on `connectionID`, if any.
    public func find(connectionID: String) async throws -> ConnectionRateLimit? {
        try await database.read { db in
            try await db.raw(
                "SELECT budget, window_seconds, updated_at FROM connection_rate_limits WHERE connection_id = \(bind: connectionID)"
            ).first().map { row in
                ConnectionRateLimit(
                    budget: try row.decode(column: "budget", as: Int.self),
                    windowSeconds: try row.decode(column: "window_seconds", as: Int.self),
                    updatedAt: try row.date("updated_at")
                )
            }
        }
    }

    /// Sets (or replaces) `connectionID`'s budget.
    public func save(connectionID: String, _ limit: ConnectionRateLimit) async throws {
        try await database.write(invalidatesCaches: false) { db in try await save(connectionID: connectionID, limit, on: db) }
    }

    /// Sets (or replaces) `connectionID`'s budget within the caller's transaction.
    public func save(connectionID: String, _ limit: ConnectionRateLimit, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO connection_rate_limits (connection_id, budget, window_seconds, updated_at)
            VALUES (\(bind: connectionID), \(bind: limit.budget), \(bind: limit.windowSeconds), \(bind: limit.updatedAt.unixMilliseconds))
            ON CONFLICT (connection_id) DO UPDATE SET budget = \(bind: limit.budget),
              window_seconds = \(bind: limit.windowSeconds), updated_at = \(bind: limit.updatedAt.unixMilliseconds)
            """
        ).run()
    }

    /// Removes `connectionID`'s budget: the catalog's default applies again. Answers whether one was set.
    @discardableResult
    public func delete(connectionID: String) async throws -> Bool {
        try await database.write(invalidatesCaches: false) { db in try await delete(connectionID: connectionID, on: db) }
    }

    /// Removes `connectionID`'s budget within the caller's transaction; answers whether one was set.
    public func delete(connectionID: String, on db: any SQLDatabase) async throws -> Bool {
        let row = try await db.raw(
            "DELETE FROM connection_rate_limits WHERE connection_id = \(bind: connectionID) RETURNING connection_id"
        ).first()
        return row != nil
    }
}

extension ConnectionRateLimitRepository {
    /// Stores a Connection's own budget and its audit event in one transaction.
    public func save(
        connectionID: String,
        _ limit: ConnectionRateLimit,
        audited record: AuditRecord,
        tenantID: String,
        in audit: AuditLog
    ) async throws {
        try await database.transaction(invalidatesCaches: false) { db in
            try await save(connectionID: connectionID, limit, on: db)
            _ = try await audit.append(record, tenantID: tenantID, on: db)
        }
    }

    /// Removes a Connection's own budget and, when there was one, records `record`, in one transaction.
    public func delete(connectionID: String, audited record: AuditRecord, tenantID: String, in audit: AuditLog) async throws {
        try await database.transaction(invalidatesCaches: false) { db in
            if try await delete(connectionID: connectionID, on: db) {
                _ = try await audit.append(record, tenantID: tenantID, on: db)
            }
        }
    }
}
