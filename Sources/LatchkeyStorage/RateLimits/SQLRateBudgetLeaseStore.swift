public import Foundation
public import LatchkeyCore
import SQLKit
import Synchronization

/// The lease store of a deployment with several instances: one statement per lease on the shared database
/// (migration 14), the grant counted in the same statement that reads it so that two instances never both take the
/// last calls of a window. Rows of past windows are deleted once per Connection and window.
public final class SQLRateBudgetLeaseStore: RateBudgetLeaseStore {
    private let database: Database
    /// The window each Connection's past rows were last deleted before.
    private let cleaned = Mutex<[String: Int64]>([:])

    public init(database: Database) {
        self.database = database
    }

    public func lease(connectionID: String, windowStart: Date, budget: Int, want: Int) async throws -> Int {
        let start = windowStart.unixMilliseconds
        let want = max(0, want)
        let budget = max(0, budget)
        let first = min(want, budget)
        let clean = cleaned.withLock { cleaned in
            guard cleaned[connectionID] != start else { return false }
            cleaned[connectionID] = start
            return true
        }
        // Both assignments read the row as it was; the two numbers are integers, written into the text.
        let left = "(\(budget) - rate_budget_leases.granted)"
        let grant = "CASE WHEN \(left) <= 0 THEN 0 WHEN \(left) < \(want) THEN \(left) ELSE \(want) END"
        return try await database.write(invalidatesCaches: false) { db in
            if clean {
                try await db.raw(
                    "DELETE FROM rate_budget_leases WHERE connection_id = \(bind: connectionID) AND window_start < \(bind: start)"
                ).run()
            }
            let row = try await db.raw(
                """
                INSERT INTO rate_budget_leases (connection_id, window_start, granted, last_grant)
                VALUES (\(bind: connectionID), \(bind: start), \(bind: first), \(bind: first))
                ON CONFLICT (connection_id, window_start) DO UPDATE
                SET last_grant = \(unsafeRaw: grant), granted = rate_budget_leases.granted + \(unsafeRaw: grant)
                RETURNING last_grant
                """
            ).first()
            return try row?.decode(column: "last_grant", as: Int.self) ?? 0
        }
    }
}
