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
    /// The chain heads this writer's last batch left, by tenant (a hint: checked by the statement that moves them).
    private var heads: [String: Head] = [:]

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
                heads = try await Self.write(batch.map(\.entry), heads: heads, database: database, repository: repository, now: clock.now)
                for item in batch { item.continuation.resume() }
            } catch {
                heads = [:]
                for item in batch {
                    do {
                        _ = try await Self.write([item.entry], heads: [:], database: database, repository: repository, now: clock.now)
                        item.continuation.resume()
                    } catch {
                        item.continuation.resume(throwing: error)
                    }
                }
            }
        }
        draining = false
    }

    typealias Head = (seq: Int, hash: String)

    /// Writes a batch in one transaction and answers the tenants' chain heads after it. A head this writer left
    /// (`heads`) is moved with one conditional statement; only when another writer moved it since (another instance,
    /// the CLI, a non-batched append) is it read and locked first.
    private static func write(
        _ batch: [Entry],
        heads: [String: Head],
        database: Database,
        repository: AuditRepository,
        now: Date
    )
        async throws -> [String: Head]
    {
        // Audit events and `last_used_at` only: nothing `CredentialCache` uses, so cached rows stay valid.
        try await database.transaction(invalidatesCaches: false) { db in
            var byTenant: [String: [Entry]] = [:]
            var order: [String] = []
            for item in batch {
                if byTenant[item.tenantID] == nil { order.append(item.tenantID) }
                byTenant[item.tenantID, default: []].append(item)
            }
            var after = heads
            for tenantID in order {
                let entries = byTenant[tenantID]!
                if let known = heads[tenantID] {
                    let events = link(entries, tenantID: tenantID, after: known, now: now)
                    let next = (events.last!.seq, events.last!.hash)
                    if try await repository.advanceHead(tenantID: tenantID, from: known, to: next, on: db) {
                        try await repository.insertEvents(events, on: db)
                        after[tenantID] = next
                        continue
                    }
                }
                let head = try await repository.lockHead(tenantID: tenantID, on: db)
                let events = link(entries, tenantID: tenantID, after: head, now: now)
                try await repository.insertAll(events, on: db)
                after[tenantID] = (events.last!.seq, events.last!.hash)
            }
            let touched = Array(Set(batch.compactMap(\.touchedCredential)))
            if !touched.isEmpty {
                try await db.raw("UPDATE credentials SET last_used_at = \(bind: now.ms) WHERE id IN (\(binds: touched))").run()
            }
            return after
        }
    }

    private static func link(_ entries: [Entry], tenantID: String, after head: Head, now: Date) -> [AuditEvent] {
        var head = head
        return entries.map { item in
            let event = AuditChain.link(item.record, tenantID: tenantID, seq: head.seq + 1, id: NewID.make(), timestamp: now, prevHash: head.hash)
            head = (event.seq, event.hash)
            return event
        }
    }
}
