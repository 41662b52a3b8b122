import Foundation
public import LatchkeyCore
import SQLKit

/// Group commit for the audit events of hot paths (every reveal writes one): concurrent appends are queued and
/// written together, one transaction, one chain-head lock and one multi-row insert per batch, instead of one
/// transaction each. A caller returns only once its event is committed. If a batch fails, its items are retried
/// one by one so that one bad item cannot fail the others.
public actor AuditWriter {
    struct Entry: Sendable {
        let tenantID: String
        let record: AuditRecord
        let touchedCredential: String?
    }

    struct Item {
        let entry: Entry
        let continuation: CheckedContinuation<Void, any Error>
    }

    let database: Database
    let repository: AuditRepository
    let clock: any LatchkeyClock
    let maximumBatch: Int
    private var pending: [Item] = []
    private var draining = false

    public init(database: Database, clock: any LatchkeyClock, maximumBatch: Int = 200) {
        self.database = database
        self.repository = AuditRepository(database: database)
        self.clock = clock
        self.maximumBatch = maximumBatch
    }

    /// Appends `record` to the tenant's chain and, in the same transaction, sets `last_used_at` of the credential.
    public func append(_ record: AuditRecord, tenantID: String, touching credentialID: String? = nil) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            pending.append(Item(entry: Entry(tenantID: tenantID, record: record, touchedCredential: credentialID), continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            do {
                try await Self.write(batch.map(\.entry), database: database, repository: repository, now: clock.now)
                for item in batch { item.continuation.resume() }
            } catch {
                for item in batch {
                    do {
                        try await Self.write([item.entry], database: database, repository: repository, now: clock.now)
                        item.continuation.resume()
                    } catch {
                        item.continuation.resume(throwing: error)
                    }
                }
            }
        }
        draining = false
    }

    private static func write(_ batch: [Entry], database: Database, repository: AuditRepository, now: Date) async throws {
        // Audit events and `last_used_at` only: nothing `CredentialCache` uses, so cached rows stay valid.
        try await database.transaction(invalidatesCaches: false) { db in
            var byTenant: [String: [Entry]] = [:]
            var order: [String] = []
            for item in batch {
                if byTenant[item.tenantID] == nil { order.append(item.tenantID) }
                byTenant[item.tenantID, default: []].append(item)
            }
            for tenantID in order {
                var head = try await repository.lockHead(tenantID: tenantID, on: db)
                var events: [AuditEvent] = []
                for item in byTenant[tenantID]! {
                    let event = AuditChain.link(
                        item.record,
                        tenantID: tenantID,
                        seq: head.seq + 1,
                        id: NewID.make(),
                        timestamp: now,
                        prevHash: head.hash
                    )
                    head = (event.seq, event.hash)
                    events.append(event)
                }
                try await repository.insertAll(events, on: db)
            }
            let touched = Array(Set(batch.compactMap(\.touchedCredential)))
            if !touched.isEmpty {
                try await db.raw("UPDATE credentials SET last_used_at = \(bind: now.ms) WHERE id IN (\(binds: touched))").run()
            }
        }
    }
}
