import Foundation
import LatchkeyCore

/// Writes a tenant's whole audit chain as JSON lines or CSV, page by page (constant memory).
public enum AuditExport {
    public enum Format: String, Sendable, CaseIterable { case jsonl, csv }

    static let columns = [
        "seq", "id", "timestamp", "tenant_id", "actor", "action", "target", "service", "tool", "result", "ip", "user_agent", "details", "prev_hash",
        "hash",
    ]

    public static func write(audit: AuditLog, tenantID: String, format: Format, emit: (String) async throws -> Void) async throws {
        if format == .csv { try await emit(columns.joined(separator: ",") + "\n") }
        var after = 0
        while true {
            let page = try await audit.repository.page(tenantID: tenantID, afterSeq: after, limit: 1000)
            guard let last = page.last else { break }
            var chunk = ""
            for event in page { chunk += format == .csv ? csvLine(event) : jsonLine(event) }
            try await emit(chunk)
            after = last.seq
        }
    }

    static func fields(_ e: AuditEvent) -> [String: String?] {
        [
            "seq": String(e.seq), "id": e.id, "timestamp": e.timestamp.formatted(.iso8601), "tenant_id": e.tenantID, "actor": e.actor,
            "action": e.action, "target": e.target, "service": e.service, "tool": e.tool, "result": e.result, "ip": e.ip,
            "user_agent": e.userAgent, "details": detailsJSON(e.details), "prev_hash": e.prevHash, "hash": e.hash,
        ]
    }

    static func detailsJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(details)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func jsonLine(_ e: AuditEvent) -> String {
        struct Line: Encodable {
            var seq: Int, id: String, timestamp: String, tenantId: String, actor: String, action: String
            var target: String?, service: String?, tool: String?, result: String, ip: String?, userAgent: String?
            var details: [String: String], prevHash: String, hash: String
        }
        let line = Line(
            seq: e.seq,
            id: e.id,
            timestamp: e.timestamp.formatted(.iso8601),
            tenantId: e.tenantID,
            actor: e.actor,
            action: e.action,
            target: e.target,
            service: e.service,
            tool: e.tool,
            result: e.result,
            ip: e.ip,
            userAgent: e.userAgent,
            details: e.details,
            prevHash: e.prevHash,
            hash: e.hash
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self) + "\n"
    }

    static func csvLine(_ e: AuditEvent) -> String {
        let values = fields(e)
        return columns.map { csvEscape((values[$0] ?? nil) ?? "") }.joined(separator: ",") + "\n"
    }

    /// RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula.
    static func csvEscape(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }
}
