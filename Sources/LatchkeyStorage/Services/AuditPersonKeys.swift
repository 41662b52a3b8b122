import Crypto
public import Foundation
public import LatchkeyCore
public import SQLKit
import Synchronization

/// Each person's audit key (table `audit_person_keys`): 256 random bits, sealed with the keyring like other secrets
/// (re-wrapped on data-key rotation), created at the person's first audited event and deleted by their erasure —
/// after which the fields `AuditSeal` sealed under it read `erased`.
///
/// Unwrapped keys are cached in memory (bounded), so that an event about a person costs one AES-GCM seal per field
/// and no database round trip after the first. An erasure evicts the person's key here at once; another instance
/// may still open with its cached copy until the entry is `lifetime` old and read again.
public final class AuditPersonKeys: Sendable {
    struct Entry {
        var id: String
        var person: String
        var key: SymmetricKey
        var loadedAt: Date
    }

    struct Cache {
        /// By "tenant|person".
        var byPerson: [String: Entry] = [:]
        /// By key id.
        var byID: [String: Entry] = [:]
        /// Key ids known to be gone (erased keys never come back).
        var erased: Set<String> = []
    }

    let database: Database
    let keyring: Keyring
    let clock: any LatchkeyClock
    /// How long a cached key is used before it is read again (bounds how long another instance's erasure goes unseen).
    public let lifetime: TimeInterval
    /// Most keys held in memory.
    let capacity: Int
    private let cache = Mutex(Cache())

    public static let defaultLifetime: TimeInterval = 30

    public init(database: Database, keyring: Keyring, clock: any LatchkeyClock, lifetime: TimeInterval = defaultLifetime, capacity: Int = 10_000) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// `record` with its people's identifiers sealed; keys are read or created first (on `db`, inside the caller's
    /// transaction, when given; else in a write of their own).
    public func seal(_ record: AuditRecord, tenantID: String, on db: (any SQLDatabase)? = nil) async throws -> AuditRecord {
        let persons = AuditSeal.persons(in: record)
        guard !persons.isEmpty else { return record }
        var keys: [String: AuditSeal.PersonKey] = [:]
        for person in persons { keys[person] = try await key(person: person, tenantID: tenantID, on: db) }
        return try AuditSeal.seal(record, tenantID: tenantID, keys: keys)
    }

    /// `events` with their sealed fields opened (erased ones read `erased`); one read for the keys not cached.
    public func open(_ events: [AuditEvent]) async throws -> [AuditEvent] {
        var wanted: Set<String> = []
        for event in events { wanted.formUnion(AuditSeal.keyIDs(in: event)) }
        guard !wanted.isEmpty else { return events }
        let now = clock.now
        var states: [String: AuditSeal.KeyState] = [:]
        var missing: [String] = []
        cache.withLock { cache in
            for id in wanted {
                if cache.erased.contains(id) {
                    states[id] = .erased
                } else if let entry = cache.byID[id], now.timeIntervalSince(entry.loadedAt) < lifetime {
                    states[id] = .key(entry.key)
                } else {
                    missing.append(id)
                }
            }
        }
        if !missing.isEmpty {
            let rows = try await database.read { db in
                try await db.raw(
                    "SELECT id, tenant_id, person_id, sealed_key FROM audit_person_keys WHERE id IN (\(binds: missing))"
                ).all()
            }
            var found: [Entry] = []
            for row in rows {
                let id = try row.string("id")
                let tenantID = try row.string("tenant_id")
                let person = try row.string("person_id")
                do {
                    let key = try unwrap(try row.data("sealed_key"), id: id, person: person, tenantID: tenantID)
                    states[id] = .key(key)
                    found.append(Entry(id: id, person: Self.personKey(tenantID, person), key: key, loadedAt: now))
                } catch {
                    states[id] = .unreadable
                }
            }
            let gone = missing.filter { states[$0] == nil }
            cache.withLock { cache in
                for entry in found { store(entry, in: &cache) }
                for id in gone { remove(id: id, from: &cache) }
                if cache.erased.count >= capacity { cache.erased.removeAll() }
                cache.erased.formUnion(gone)
            }
        }
        return events.map { AuditSeal.open($0, keys: states) }
    }

    /// Deletes the keys of `persons` in the caller's transaction (an erasure) and forgets them here.
    public func destroy(persons: [String], tenantID: String, on db: any SQLDatabase) async throws {
        guard !persons.isEmpty else { return }
        try await db.raw("DELETE FROM audit_person_keys WHERE tenant_id = \(bind: tenantID) AND person_id IN (\(binds: persons))").run()
        evict(persons: persons, tenantID: tenantID)
    }

    /// Forgets the cached keys of `persons` (again after the erasure committed, in case a read cached one meanwhile).
    public func evict(persons: [String], tenantID: String) {
        cache.withLock { cache in
            for person in persons {
                if let entry = cache.byPerson.removeValue(forKey: Self.personKey(tenantID, person)) {
                    cache.byID[entry.id] = nil
                    cache.erased.insert(entry.id)
                }
            }
        }
    }

    /// The person's key: cached, read, or created now.
    func key(person: String, tenantID: String, on db: (any SQLDatabase)?) async throws -> AuditSeal.PersonKey {
        let now = clock.now
        let cacheKey = Self.personKey(tenantID, person)
        if let entry = cache.withLock({ $0.byPerson[cacheKey] }), now.timeIntervalSince(entry.loadedAt) < lifetime {
            return AuditSeal.PersonKey(id: entry.id, key: entry.key)
        }
        let loaded: (id: String, key: SymmetricKey)
        if let db {
            loaded = try await readOrCreate(person: person, tenantID: tenantID, on: db)
        } else if let found = try await database.read({ db in try await read(person: person, tenantID: tenantID, on: db) }) {
            loaded = found
        } else {
            loaded = try await database.write(invalidatesCaches: false) { db in try await readOrCreate(person: person, tenantID: tenantID, on: db) }
        }
        cache.withLock { store(Entry(id: loaded.id, person: cacheKey, key: loaded.key, loadedAt: now), in: &$0) }
        return AuditSeal.PersonKey(id: loaded.id, key: loaded.key)
    }

    private func readOrCreate(person: String, tenantID: String, on db: any SQLDatabase) async throws -> (id: String, key: SymmetricKey) {
        if let found = try await read(person: person, tenantID: tenantID, on: db) { return found }
        let id = NewID.make()
        let key = SymmetricKey(size: .bits256)
        let sealed = try key.withUnsafeBytes { try keyring.seal(Data($0), context: Self.context(id: id, person: person, tenantID: tenantID)) }
        // Two writers may create the person's key at once: the first one stays, and both use it.
        try await db.raw(
            """
            INSERT INTO audit_person_keys (id, tenant_id, person_id, sealed_key, key_version, created_at)
            VALUES (\(bind: id), \(bind: tenantID), \(bind: person), \(bind: sealed), \(bind: keyring.activeVersion), \(bind: clock.now.ms))
            ON CONFLICT (tenant_id, person_id) DO NOTHING
            """
        ).run()
        guard let stored = try await read(person: person, tenantID: tenantID, on: db) else {
            throw StorageError(table: "audit_person_keys", column: "sealed_key", rowID: id)
        }
        return stored
    }

    private func read(person: String, tenantID: String, on db: any SQLDatabase) async throws -> (id: String, key: SymmetricKey)? {
        guard
            let row = try await db.raw(
                "SELECT id, sealed_key FROM audit_person_keys WHERE tenant_id = \(bind: tenantID) AND person_id = \(bind: person)"
            ).first()
        else { return nil }
        let id = try row.string("id")
        return (id, try unwrap(try row.data("sealed_key"), id: id, person: person, tenantID: tenantID))
    }

    private func unwrap(_ sealed: Data, id: String, person: String, tenantID: String) throws -> SymmetricKey {
        SymmetricKey(data: try keyring.open(sealed, context: Self.context(id: id, person: person, tenantID: tenantID)))
    }

    private func store(_ entry: Entry, in cache: inout Cache) {
        if cache.byID.count >= capacity {
            // Bounded: past the capacity the whole cache is read again as needed (erasures evict one by one).
            cache.byID.removeAll()
            cache.byPerson.removeAll()
        }
        cache.byPerson[entry.person] = entry
        cache.byID[entry.id] = entry
    }

    private func remove(id: String, from cache: inout Cache) {
        if let entry = cache.byID.removeValue(forKey: id) { cache.byPerson[entry.person] = nil }
    }

    static func personKey(_ tenantID: String, _ person: String) -> String { tenantID + "|" + person }

    /// What a person's sealed key is bound to (the column's re-wrap uses the same, see `SealedColumn.all`).
    static func context(id: String, person: String, tenantID: String) -> EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: person, recordID: id, field: "audit_person_key")
    }
}
