import Foundation
public import LatchkeyCore
import Logging
import Metrics
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
///
/// Degraded mode: while the database is unreachable, events are held in memory (up to the degraded mode's
/// `heldAuditEvents`) and their callers go on; they are written first, in order and with the time they happened,
/// when it answers again. An event that finds no room is refused, and so is the call that made it.
public final class AuditWriter: Sendable {
    struct Entry: Sendable {
        let tenantID: String
        var record: AuditRecord
        /// When it happened (not when it is written).
        let at: Date
        /// False while a person's identifiers in it still wait for their key (held while the database was down).
        var sealed = true
    }

    struct Item {
        let entry: Entry
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue: ~Copyable {
        var pending: [Item] = []
        /// Accepted while the database was unreachable; written before anything else once it answers.
        var held: [Entry] = []
        var draining = false
        /// The tenants' chain heads the last batch left, kept between drains (the database refuses a batch whose
        /// head moved since, and the batch is then written with the heads read again).
        var heads: [String: Head] = [:]
    }

    let database: Database
    let repository: AuditRepository
    let clock: any LatchkeyClock
    let maximumBatch: Int
    /// Seals each person's identifiers under their audit key before the event is queued (`AuditSeal`).
    let personKeys: AuditPersonKeys?
    private let queue = Mutex(Queue())

    public init(database: Database, clock: any LatchkeyClock, personKeys: AuditPersonKeys? = nil, maximumBatch: Int = 200) {
        self.database = database
        self.repository = AuditRepository(database: database)
        self.clock = clock
        self.personKeys = personKeys
        self.maximumBatch = maximumBatch
        database.availability.onRecovery { [weak self] in await self?.flushHeld() }
    }

    /// Events waiting for the database to answer again.
    public var heldCount: Int { queue.withLock { $0.held.count } }

    /// Writes the held events now if the database answers (it is called when an outage ends).
    public func flushHeld() async {
        let start = queue.withLock { queue -> Bool in
            guard !queue.held.isEmpty, !queue.draining else { return false }
            queue.draining = true
            return true
        }
        if start { await drain() }
    }

    /// `flushHeld`, and waits for a drain that runs already, until none is held or the database does not answer.
    func flushAllHeld() async {
        while heldCount > 0, database.availability.isReachable {
            await flushHeld()
            await Task.yield()
        }
    }

    /// Appends `record` to the tenant's chain; a successful `credential.token` or `credential.reveal` event also
    /// marks its target credential used, in the same statement.
    public func append(_ record: AuditRecord, tenantID: String) async throws {
        let at = clock.now
        var entry = Entry(tenantID: tenantID, record: record, at: at)
        if let personKeys {
            do {
                entry.record = try await personKeys.seal(record, tenantID: tenantID)
            } catch is DatabaseUnreachable {
                // Degraded mode, a key not cached: sealed when the database answers, before it is written.
                entry.sealed = false
            }
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = queue.withLock { queue -> Bool in
                queue.pending.append(Item(entry: entry, continuation: continuation))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Writes batches until the queue is empty, held events first; only one drain runs at a time. The heads it left
    /// are kept for the next drain, so that a lone event (a quiet server starts a drain for each) is one statement too.
    private func drain() async {
        var heads = queue.withLock { $0.heads }
        while true {
            let reachable = database.availability.isReachable
            let (held, batch) = queue.withLock { queue -> ([Entry], [Item]) in
                let held = reachable ? Array(queue.held.prefix(maximumBatch)) : []
                queue.held.removeFirst(held.count)
                let batch = Array(queue.pending.prefix(maximumBatch - held.count))
                queue.pending.removeFirst(batch.count)
                if held.isEmpty, batch.isEmpty {
                    queue.draining = false
                    queue.heads = heads
                }
                return (held, batch)
            }
            guard !held.isEmpty || !batch.isEmpty else { return }
            guard reachable else {
                hold(batch)
                continue
            }
            do {
                heads = try await write(held + batch.map(\.entry), heads: heads)
                for item in batch { item.continuation.resume() }
                // The gauge moves only when held events were written (not on every batch of the hot path).
                if !held.isEmpty { recordHeld() }
            } catch is DatabaseUnreachable {
                heads = [:]
                queue.withLock { $0.held.insert(contentsOf: held, at: 0) }
                hold(batch)
            } catch {
                heads = [:]
                await writeOneByOne(held, batch)
            }
        }
    }

    /// After a failed batch: each item alone, so that one bad item cannot fail the others.
    private func writeOneByOne(_ held: [Entry], _ batch: [Item]) async {
        var unwritten = held
        while let entry = unwritten.first {
            do {
                _ = try await write([entry], heads: [:])
            } catch is DatabaseUnreachable {
                break
            } catch {
                database.logger.error("a held audit event could not be written", metadata: ["action": "\(entry.record.action)"])
            }
            unwritten.removeFirst()
        }
        queue.withLock { $0.held.insert(contentsOf: unwritten, at: 0) }
        for item in batch {
            do {
                _ = try await write([item.entry], heads: [:])
                item.continuation.resume()
            } catch is DatabaseUnreachable {
                hold([item])
            } catch {
                item.continuation.resume(throwing: error)
            }
        }
        recordHeld()
    }

    /// Degraded mode: keeps the events for later and lets their callers go on, while there is room.
    private func hold(_ items: [Item]) {
        let capacity = database.availability.degradedMode.lifetime > 0 ? database.availability.degradedMode.heldAuditEvents : 0
        let (accepted, refused) = queue.withLock { queue -> ([Item], [Item]) in
            let room = max(0, capacity - queue.held.count)
            let accepted = Array(items.prefix(room))
            queue.held.append(contentsOf: accepted.map(\.entry))
            return (accepted, Array(items.dropFirst(room)))
        }
        for item in accepted { item.continuation.resume() }
        for item in refused {
            item.continuation.resume(
                throwing: LatchkeyError(
                    .unavailable,
                    "Latchkey's database is unreachable and no more audit events can be held until it returns, so this call "
                        + "cannot be recorded and is refused. Try again in a few seconds.",
                    retryAfter: 5
                )
            )
        }
        recordHeld()
    }

    private func recordHeld() {
        Gauge(label: "latchkey_audit_events_held").record(heldCount)
    }

    typealias Head = (seq: Int, hash: String)

    /// Writes a batch and answers the tenants' chain heads after it: one statement when every head is known,
    /// else (or when the database refuses it because a head moved) a transaction that locks the heads first.
    private func write(_ batch: [Entry], heads: [String: Head]) async throws -> [String: Head] {
        var batch = batch
        if let personKeys {
            for index in batch.indices where !batch[index].sealed {
                batch[index].record = try await personKeys.seal(batch[index].record, tenantID: batch[index].tenantID)
                batch[index].sealed = true
            }
        }
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
                let linked = Self.link(byTenant[tenantID]!, tenantID: tenantID, after: heads[tenantID]!)
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
                let events = Self.link(byTenant[tenantID]!, tenantID: tenantID, after: head)
                try await repository.insertEvents(events, on: db)
                after[tenantID] = (events.last!.seq, events.last!.hash)
            }
            return after
        }
    }

    private static func link(_ entries: [Entry], tenantID: String, after head: Head) -> [AuditEvent] {
        var head = head
        return entries.map { item in
            let event = AuditChain.link(item.record, tenantID: tenantID, seq: head.seq + 1, id: NewID.make(), timestamp: item.at, prevHash: head.hash)
            head = (event.seq, event.hash)
            return event
        }
    }
}
