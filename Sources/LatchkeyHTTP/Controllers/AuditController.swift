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
