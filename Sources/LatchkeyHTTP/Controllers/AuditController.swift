import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import NIOCore

/// `/api/v1/audit`: the tenant's audit log, newest first, and its export.
struct AuditController {
    let audit: AuditLog

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "audit", recorder: recorder, use: list)
        group.route(.get, "audit/export", recorder: recorder, use: export)
        group.route(.get, "audit/verify", recorder: recorder, use: verify)
    }

    /// Checks the tenant's chain (from its retention checkpoint, if older events were pruned) and says where it broke.
    @Sendable func verify(_ request: Request, context: AdminContext) async throws -> Response {
        let result = try await audit.verify(tenantID: context.tenantID)
        return try JSON.response(AuditVerificationResponse(result))
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let limit = try request.limit()
        var before: Int?
        if let cursor = request.query("cursor") {
            guard cursor.utf8.count <= 18, cursor.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let value = Int(cursor)
            else { throw LatchkeyError.invalidField("cursor", "is not a cursor returned by this list") }
            before = value
        }
        let events = try await audit.repository.page(
            tenantID: context.tenantID,
            afterSeq: nil,
            beforeSeq: before,
            limit: limit + 1,
            action: request.query("action"),
            newestFirst: true
        )
        let page = Array(events.prefix(limit))
        let next = events.count > limit ? page.last.map { String($0.seq) } : nil
        return try JSON.response(ListEnvelope(items: page.map(AuditEventResponse.init), nextCursor: next))
    }

    @Sendable func export(_ request: Request, context: AdminContext) async throws -> Response {
        try Self.export(audit: audit, tenantID: context.tenantID, request: request)
    }

    /// The whole chain as a download (`?format=jsonl|csv`), streamed page by page: for the API and the console.
    static func export(audit: AuditLog, tenantID: String, request: Request) throws -> Response {
        let exportFormat = try request.query("format", oneOf: AuditExport.Format.allCases) ?? .jsonl
        let format = exportFormat.rawValue
        let body = ResponseBody { writer in
            try await AuditExport.write(audit: audit, tenantID: tenantID, format: exportFormat) { chunk in
                try await writer.write(ByteBuffer(string: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: exportFormat == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                .contentDisposition: "attachment; filename=\"latchkey-audit.\(format)\"",
                .cacheControl: "no-store",
            ],
            body: body
        )
    }
}

struct AuditVerificationResponse: Encodable {
    struct Checkpoint: Encodable {
        var seq: Int
        var hash: String
        var prunedBefore: Date
        var createdAt: Date
        var pruned: Int
    }

    struct Problem: Encodable {
        var kind: String
        var seq: Int
        var message: String
    }

    var intact: Bool
    var events: Int
    var checkpoint: Checkpoint?
    var problems: [Problem]

    init(_ result: AuditLog.Verification) {
        intact = result.isIntact
        events = result.count
        checkpoint = result.checkpoint.map {
            Checkpoint(seq: $0.seq, hash: $0.hash, prunedBefore: $0.prunedBefore, createdAt: $0.createdAt, pruned: $0.pruned)
        }
        problems = result.problems.map { Problem(kind: $0.kind.rawValue, seq: $0.seq, message: $0.description) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(intact, forKey: .intact)
        try container.encode(events, forKey: .events)
        // Always present: null when the chain was never pruned.
        try container.encode(checkpoint, forKey: .checkpoint)
        try container.encode(problems, forKey: .problems)
    }

    enum CodingKeys: String, CodingKey { case intact, events, checkpoint, problems }
}

struct AuditEventResponse: Encodable {
    var seq: Int
    var id: String
    var timestamp: Date
    var actor: String
    var action: String
    var target: String?
    var service: String?
    var tool: String?
    var result: String
    var ip: String?
    var userAgent: String?
    var details: [String: String]
    var prevHash: String
    var hash: String

    init(_ e: AuditEvent) {
        seq = e.seq
        id = e.id
        timestamp = e.timestamp
        actor = e.actor
        action = e.action
        target = e.target
        service = e.service
        tool = e.tool
        result = e.result
        ip = e.ip
        userAgent = e.userAgent
        details = e.details
        prevHash = e.prevHash
        hash = e.hash
    }
}
