public import Foundation
public import LatchkeyCore
import SQLKit

/// The circuit of each integration, shared by every instance (DESIGN §4). A row exists only once a provider failed;
/// changes are compare-and-set on `version`, so two instances can never both claim the trial call.
public struct CircuitRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The integration's circuit; ``CircuitState/closed`` when it never failed.
    public func state(integrationID: String) async throws -> CircuitState {
        try await database.read { db in
            guard
                let row = try await db.raw(
                    "SELECT failures, open_until, trial_owner, trial_until, version FROM circuits WHERE integration_id = \(bind: integrationID)"
                ).first()
            else { return .closed }
            return CircuitState(
                failures: try row.int("failures"),
                openUntil: try row.optionalDate("open_until"),
                trialOwner: try row.optionalString("trial_owner"),
                trialUntil: try row.optionalDate("trial_until"),
                version: try row.int("version")
            )
        }
    }

    /// Writes `next` if the stored circuit is still at `expected.version`; false when another instance changed it
    /// first (read again and decide again).
    public func replace(integrationID: String, tenantID: String, expected: CircuitState, with next: CircuitState, now: Date) async throws -> Bool {
        try await database.write { db in
            if expected.version == 0 {
                return try await db.raw(
                    """
                    INSERT INTO circuits (integration_id, tenant_id, failures, open_until, trial_owner, trial_until, version, updated_at)
                    VALUES (\(bind: integrationID), \(bind: tenantID), \(bind: next.failures), \(bind: next.openUntil?.ms),
                      \(bind: next.trialOwner), \(bind: next.trialUntil?.ms), 1, \(bind: now.ms))
                    ON CONFLICT (integration_id) DO NOTHING RETURNING integration_id
                    """
                ).first() != nil
            }
            return try await db.raw(
                """
                UPDATE circuits SET failures = \(bind: next.failures), open_until = \(bind: next.openUntil?.ms),
                  trial_owner = \(bind: next.trialOwner), trial_until = \(bind: next.trialUntil?.ms), version = version + 1,
                  updated_at = \(bind: now.ms)
                WHERE integration_id = \(bind: integrationID) AND version = \(bind: expected.version) RETURNING integration_id
                """
            ).first() != nil
        }
    }

    /// The open circuits of a tenant, by integration id (for health pages and metrics).
    public func states(tenantID: String) async throws -> [String: CircuitState] {
        try await database.read { db in
            var out: [String: CircuitState] = [:]
            for row in try await db.raw(
                "SELECT integration_id, failures, open_until, trial_owner, trial_until, version FROM circuits WHERE tenant_id = \(bind: tenantID)"
            ).all() {
                out[try row.string("integration_id")] = CircuitState(
                    failures: try row.int("failures"),
                    openUntil: try row.optionalDate("open_until"),
                    trialOwner: try row.optionalString("trial_owner"),
                    trialUntil: try row.optionalDate("trial_until"),
                    version: try row.int("version")
                )
            }
            return out
        }
    }
}
