import Foundation
public import LatchkeyCore
public import SQLKit

/// Appends events to each tenant's hash chain and verifies it. Appends inside a caller's transaction commit or
/// roll back with the change they record.
public struct AuditLog: Sendable {
    public let repository: AuditRepository
    let database: Database
    let clock: any LatchkeyClock
    /// Checks the signature of a retention checkpoint; without it a checkpoint cannot be trusted.
    let keyring: Keyring?

    /// Each person's audit key, under which their identifiers in events are sealed (none without a keyring).
    public let personKeys: AuditPersonKeys?

    public init(database: Database, clock: any LatchkeyClock, keyring: Keyring? = nil) {
        let personKeys = keyring.map { AuditPersonKeys(database: database, keyring: $0, clock: clock) }
        self.database = database
        self.repository = AuditRepository(database: database, personKeys: personKeys)
        self.clock = clock
        self.keyring = keyring
        self.personKeys = personKeys
    }

    /// Appends in its own transaction.
    @discardableResult
    public func append(_ record: AuditRecord, tenantID: String) async throws -> AuditEvent {
        try await database.transaction { db in try await append(record, tenantID: tenantID, on: db) }
    }

    /// Appends inside the caller's transaction; a person's identifiers are sealed under their audit key (created in
    /// the same transaction when it is their first event).
    @discardableResult
    public func append(_ record: AuditRecord, tenantID: String, on db: any SQLDatabase) async throws -> AuditEvent {
        let record = try await personKeys?.seal(record, tenantID: tenantID, on: db) ?? record
        let head = try await repository.lockHead(tenantID: tenantID, on: db)
        let event = AuditChain.link(record, tenantID: tenantID, seq: head.seq + 1, id: NewID.make(), timestamp: clock.now, prevHash: head.hash)
        try await repository.insertEvents([event], on: db)
        return event
    }

    /// The result of checking a tenant's chain.
    public struct Verification: Sendable {
        public var count: Int
        public var problems: [AuditChain.Problem]
        /// The retention checkpoint the verification started from (nil: from the first event).
        public var checkpoint: AuditCheckpoint?
        public var isIntact: Bool { problems.isEmpty }
    }

    /// Reads the whole chain in pages and checks every link and the head; after a retention pruning, from the newest
    /// checkpoint on, whose signature must hold.
    public func verify(tenantID: String, progress: (@Sendable (Int) -> Void)? = nil) async throws -> Verification {
        let checkpoint = try await repository.latestCheckpoint(tenantID: tenantID)
        var verifier = AuditChain.Verifier(startingAt: checkpoint)
        if let checkpoint, keyring.map({ checkpoint.isAuthentic(under: $0) }) != true {
            verifier.report(.init(kind: .checkpoint, seq: checkpoint.seq))
        }
        var after = checkpoint?.seq ?? 0
        while true {
            let page = try await repository.sealedPage(tenantID: tenantID, afterSeq: after, limit: 1000)
            for event in page { verifier.consume(event) }
            guard let last = page.last else { break }
            after = last.seq
            progress?(verifier.count)
        }
        let head = try await repository.head(tenantID: tenantID)
        verifier.finish(headSeq: head?.seq, headHash: head?.hash)
        return Verification(count: verifier.count, problems: verifier.problems, checkpoint: checkpoint)
    }
}
