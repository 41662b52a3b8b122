public import Foundation
public import LatchkeyCore
import Logging
import SQLKit

/// Audit retention: deletes each tenant's events older than the retention, oldest first, and records a signed
/// checkpoint (the last pruned event's sequence number and hash) in the same transaction, so that the chain stays
/// verifiable from the checkpoint on. Only a prefix of the chain is ever pruned: it stops at the first event that is
/// not old enough, so an event written late with an earlier time never leaves a hole.
public struct AuditRetention: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any LatchkeyClock
    let repository: AuditRepository

    public init(database: Database, keyring: Keyring, clock: any LatchkeyClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
        self.repository = AuditRepository(database: database)
    }

    /// Prunes every tenant's events from before `cutoff`, in batches of `batchSize` (each batch one transaction with
    /// its checkpoint); returns how many events went.
    @discardableResult
    public func prune(before cutoff: Date, batchSize: Int = 5000) async throws -> Int {
        let tenants = try await database.read { db in
            try await db.raw("SELECT tenant_id FROM audit_heads ORDER BY tenant_id").all().map { try $0.string("tenant_id") }
        }
        var total = 0
        for tenantID in tenants { total += try await prune(tenantID: tenantID, before: cutoff, batchSize: batchSize) }
        return total
    }

    /// Prunes one tenant's events from before `cutoff`; returns how many went.
    @discardableResult
    public func prune(tenantID: String, before cutoff: Date, batchSize: Int = 5000) async throws -> Int {
        var total = 0
        while true {
            let removed = try await pruneBatch(tenantID: tenantID, before: cutoff, limit: batchSize)
            total += removed
            if removed < batchSize || Task.isCancelled { return total }
        }
    }

    private func pruneBatch(tenantID: String, before cutoff: Date, limit: Int) async throws -> Int {
        try await database.transaction(invalidatesCaches: false) { db in
            // Taken first, so that appends of this tenant wait and another instance's pruning runs after this one.
            _ = try await repository.lockHead(tenantID: tenantID, on: db)
            let rows = try await db.raw(
                """
                SELECT seq, ts, hash FROM audit_events WHERE tenant_id = \(bind: tenantID) ORDER BY seq LIMIT \(unsafeRaw: String(limit))
                """
            ).all()
            var last: (seq: Int, hash: String)?
            var count = 0
            for row in rows {
                guard try row.date("ts") < cutoff else { break }
                last = (try row.int("seq"), try row.string("hash"))
                count += 1
            }
            guard let last else { return 0 }
            let checkpoint = AuditCheckpoint(
                tenantID: tenantID,
                seq: last.seq,
                hash: last.hash,
                prunedBefore: cutoff,
                createdAt: clock.now,
                pruned: count
            ).signed(with: keyring)
            try await db.raw(
                """
                INSERT INTO audit_checkpoints (tenant_id, seq, hash, pruned_before, created_at, pruned, signature)
                VALUES (\(bind: tenantID), \(bind: checkpoint.seq), \(bind: checkpoint.hash), \(bind: checkpoint.prunedBefore.ms),
                  \(bind: checkpoint.createdAt.ms), \(bind: checkpoint.pruned), \(bind: checkpoint.signature))
                """
            ).run()
            try await db.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: tenantID) AND seq <= \(bind: last.seq)").run()
            return count
        }
    }
}

extension AuditRepository {
    /// The newest retention checkpoint of the tenant's chain, if events were ever pruned.
    public func latestCheckpoint(tenantID: String) async throws -> AuditCheckpoint? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT tenant_id, seq, hash, pruned_before, created_at, pruned, signature FROM audit_checkpoints
                WHERE tenant_id = \(bind: tenantID) ORDER BY seq DESC LIMIT 1
                """
            ).first().map { row in
                AuditCheckpoint(
                    tenantID: try row.string("tenant_id"),
                    seq: try row.int("seq"),
                    hash: try row.string("hash"),
                    prunedBefore: try row.date("pruned_before"),
                    createdAt: try row.date("created_at"),
                    pruned: try row.int("pruned"),
                    signature: try row.string("signature")
                )
            }
        }
    }
}
