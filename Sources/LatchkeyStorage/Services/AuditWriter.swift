import Foundation
public import LatchkeyCore
import SQLKit
import Synchronization

/// Group commit for the audit events of hot paths (every token hand-out and reveal writes one): concurrent appends
/// are queued and written together, one multi-row `INSERT` per batch, instead of one transaction each. A caller
/// returns only once its event is committed.
///
/// While this writer knows each tenant's head (it left it there), a batch is that one statement: the database
/// checks that each event follows its head, moves the head and marks handed-out credentials used
/// (`AuditChainRules`). When another writer moved a head since (another instance, the CLI, `AuditLog`), the
/// statement is refused and the batch is written again in a transaction that reads and locks the heads first. If
/// that fails too, the items are retried one by one so that one bad item cannot fail the others.
public final class AuditWriter: Sendable {
    struct Entry: Sendable {
        let tenantID: String
        let record: AuditRecord
    }

    struct Item {
        let entry: Entry
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue: ~Copyable {
        var pending: [Item] = []
        var draining = false
    }

    let database: Database
    let repository: AuditRepository
    let clock: any LatchkeyClock
    let maximumBatch: Int
    private let queue = Mutex(Queue())

    public init(database: Database, clock: any LatchkeyClock, maximumBatch: Int = 200) {
        self.database = database
        self.repository = AuditRepository(database: database)
        self.clock = clock
        self.maximumBatch = maximumBatch
    }

    /// Appends `record` to the tenant's chain; a successful `credential.token` or `credential.reveal` event also
    /// marks its target credential used, in the same statement.
    public func append(_ record: AuditRecord, tenantID: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = queue.withLock { queue -> Bool in
                queue.pending.append(Item(entry: Entry(tenantID: tenantID, record: record), continuation: continuation))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Writes batches until the queue is empty; only one drain runs at a time. The heads it left are its own.
    private func drain() async {
        var heads: [String: Head] = [:]
        while true {
            let batch = queue.withLock { queue -> [Item] in
                let batch = Array(queue.pending.prefix(maximumBatch))
                queue.pending.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                heads = try await write(batch.map(\.entry), heads: heads, now: clock.now)
                for item in batch { item.continuation.resume() }
            } catch {
                heads = [:]
                for item in batch {
                    do {
                        _ = try await write([item.entry], heads: [:], now: clock.now)
                        item.continuation.resume()
                    } catch {
                        item.continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    typealias Head = (seq: Int, hash: String)

    /// Writes a batch and answers the tenants' chain heads after it: one statement when every head is known,
    /// else (or when the database refuses it because a head moved) a transaction that locks the heads first.
    private func write(_ batch: [Entry], heads: [String: Head], now: Date) async throws -> [String: Head] {
        var order: [String] = []
        var byTenant: [String: [Entry]] = [:]
        for item in batch {
            if byTenant[item.tenantID] == nil { order.append(item.tenantID) }
            byTenant[item.tenantID, default: []].append(item)
        }
        if order.allSatisfy({ heads[$0] != nil }) {
            var after = heads
            var events: [AuditEvent] = []
            for tenantID in order {
                let linked = Self.link(byTenant[tenantID]!, tenantID: tenantID, after: heads[tenantID]!, now: now)
                events += linked
                after[tenantID] = (linked.last!.seq, linked.last!.hash)
            }
            // Audit events and `last_used_at` only: nothing `CredentialCache` uses, so cached rows stay valid.
            do {
                try await database.write(invalidatesCaches: false) { try await repository.insertEvents(events, on: $0) }
                return after
            } catch {
                // Refused (a head moved) or failed: written again below, with the heads read and locked.
            }
        }
        return try await database.transaction(invalidatesCaches: false) { db in
            var after = heads
            for tenantID in order {
                let head = try await repository.lockHead(tenantID: tenantID, on: db)
                let events = Self.link(byTenant[tenantID]!, tenantID: tenantID, after: head, now: now)
                try await repository.insertEvents(events, on: db)
                after[tenantID] = (events.last!.seq, events.last!.hash)
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
