import Foundation
public import LatchkeyCore
public import SQLKit

/// Rows of the audit chains. Only `AuditLog` and `AuditWriter` append; nothing updates or deletes. The database
/// refuses an event that does not follow its chain head and moves the head itself (`AuditChainRules`).
///
/// `page` answers events as people read them, their sealed fields opened with `personKeys` (or `erased`);
/// `sealedPage` as stored, which is what the chain's hashes cover.
public struct AuditRepository: Sendable {
    let database: Database
    /// Opens the fields sealed under a person's audit key; nil: they are answered as stored.
    public let personKeys: AuditPersonKeys?

    public init(database: Database, personKeys: AuditPersonKeys? = nil) {
        self.database = database
        self.personKeys = personKeys
    }

    /// Creates the chain head of a new tenant (so that appends can lock it).
    public func createHead(tenantID: String, on db: any SQLDatabase) async throws {
        try await db.raw("INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (\(bind: tenantID), 0, \(bind: AuditChain.genesis))").run()
    }

    /// The head, locked for the rest of the transaction on PostgreSQL.
    func lockHead(tenantID: String, on db: any SQLDatabase) async throws -> (seq: Int, hash: String) {
        guard
            let row = try await db.raw(
                "SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenantID)\(unsafeRaw: database.forUpdate)"
            ).first()
        else {
            try await createHead(tenantID: tenantID, on: db)
            return (0, AuditChain.genesis)
        }
        return (try row.int("seq"), try row.string("hash"))
    }

    /// Inserts events in one statement; each must follow its tenant's head, which it moves (`AuditChainRules`).
    /// Consecutive events of several tenants may go together.
    func insertEvents(_ events: [AuditEvent], on db: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        var query = SQLQueryString(
            "INSERT INTO audit_events (tenant_id, seq, id, ts, actor, action, target, service, tool, result, ip, user_agent, details, prev_hash, hash) VALUES "
        )
        for (index, event) in events.enumerated() {
            if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
            let values: [any Encodable & Sendable] = [
                event.tenantID, event.seq, event.id, event.timestamp.ms, event.actor, event.action, event.target, event.service, event.tool,
                event.result, event.ip, event.userAgent, JSONColumn.encode(event.details), event.prevHash, event.hash,
            ]
            query.appendInterpolation(unsafeRaw: "(")
            query.appendInterpolation(binds: values)
            query.appendInterpolation(unsafeRaw: ")")
        }
        try await db.raw(query).run()
    }

    public func head(tenantID: String) async throws -> (seq: Int, hash: String)? {
        try await database.read { db in
            try await db.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenantID)").first().map {
                (try $0.int("seq"), try $0.string("hash"))
            }
        }
    }

    /// Events in chain order after `afterSeq`, at most `limit`, optionally newest first; the identifiers sealed
    /// under a person's audit key are opened (`erased` once the person was erased).
    public func page(
        tenantID: String,
        afterSeq: Int?,
        beforeSeq: Int? = nil,
        limit: Int,
        action: String? = nil,
        newestFirst: Bool = false
    ) async throws
        -> [AuditEvent]
    {
        let events = try await sealedPage(
            tenantID: tenantID,
            afterSeq: afterSeq,
            beforeSeq: beforeSeq,
            limit: limit,
            action: action,
            newestFirst: newestFirst
        )
        guard let personKeys else { return events }
        return try await personKeys.open(events)
    }

    /// `page` as stored: sealed fields stay sealed (what the chain's hashes cover, for verification).
    public func sealedPage(
        tenantID: String,
        afterSeq: Int?,
        beforeSeq: Int? = nil,
        limit: Int,
        action: String? = nil,
        newestFirst: Bool = false
    ) async throws
        -> [AuditEvent]
    {
        try await database.read { db in
            var query = SQLQueryString("SELECT * FROM audit_events WHERE tenant_id = ")
            query.appendInterpolation(bind: tenantID)
            if let afterSeq {
                query.appendInterpolation(unsafeRaw: " AND seq > ")
                query.appendInterpolation(bind: afterSeq)
            }
            if let beforeSeq {
                query.appendInterpolation(unsafeRaw: " AND seq < ")
                query.appendInterpolation(bind: beforeSeq)
            }
            if let action {
                query.appendInterpolation(unsafeRaw: " AND action = ")
                query.appendInterpolation(bind: action)
            }
            query.appendInterpolation(unsafeRaw: newestFirst ? " ORDER BY seq DESC" : " ORDER BY seq")
            query.appendInterpolation(unsafeRaw: " LIMIT \(limit)")
            return try await db.raw(query).all().map(Self.event(from:))
        }
    }

    static func event(from row: any SQLRow) throws -> AuditEvent {
        AuditEvent(
            tenantID: try row.string("tenant_id"),
            seq: try row.int("seq"),
            id: try row.string("id"),
            timestamp: try row.date("ts"),
            actor: try row.string("actor"),
            action: try row.string("action"),
            target: try row.optionalString("target"),
            service: try row.optionalString("service"),
            tool: try row.optionalString("tool"),
            result: try row.string("result"),
            ip: try row.optionalString("ip"),
            userAgent: try row.optionalString("user_agent"),
            details: try row.stringMap("details", table: "audit_events"),
            prevHash: try row.string("prev_hash"),
            hash: try row.string("hash")
        )
    }
}
