import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/admin/audit`: the tenant's audit log in the console — newest first, filtered by action, page by page; a check of
/// the whole hash chain on demand (what `latchkey audit verify` does); and the export (`GET /api/v1/audit/export`)
/// as a download for the signed-in administrator.
struct AdminAuditPagesController {
    let audit: AuditLog
    let users: UserRepository
    let sessions: WebSessions
    static let pageSize = 50

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/audit", use: list)
        group.post("admin/audit/verify", use: verify)
        group.get("admin/audit/export", use: export)
    }

    @Sendable func list(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await page(request, context)
    }

    @Sendable func verify(_ request: Request, context: AdminPageContext) async throws -> Response {
        let result = try await audit.verify(tenantID: context.tenantID)
        let chain: [String: Any] =
            result.isIntact
            ? [
                "intact": true,
                "summary": result.checkpoint.map {
                    "The chain is intact: all \(result.count) events link up, from the signed retention checkpoint at #\($0.seq) to the head."
                } ?? "The chain is intact: all \(result.count) events link up, from the first to the head.",
            ]
            : [
                "intact": false,
                "summary":
                    "The chain is broken: \(result.problems.count) problem(s) in \(result.count) events. Someone or something changed the log.",
                "problems": result.problems.prefix(20).map(\.description),
            ]
        return try await page(request, context, chain: chain)
    }

    @Sendable func export(_ request: Request, context: AdminPageContext) async throws -> Response {
        try AuditController.export(audit: audit, tenantID: context.tenantID, request: request)
    }

    private func page(_ request: Request, _ context: AdminPageContext, chain: [String: Any]? = nil) async throws -> Response {
        let action = request.uri.queryParameters.get("action").map { $0.trimmingCharacters(in: .whitespaces) }.flatMap {
            $0.isEmpty ? nil : String($0.prefix(100))
        }
        let before = request.uri.queryParameters.get("before").flatMap { Int($0) }
        let events = try await audit.repository.page(
            tenantID: context.tenantID,
            afterSeq: nil,
            beforeSeq: before,
            limit: Self.pageSize + 1,
            action: action,
            newestFirst: true
        )
        let shown = Array(events.prefix(Self.pageSize))
        // People by name rather than by id.
        let emails = Dictionary(try await users.list(tenantID: context.tenantID).map { ("user:\($0.id)", $0.email) }) { first, _ in first }
        let rows: [[String: Any]] = shown.map { event in
            [
                "seq": event.seq, "time": PageDates.minute(event.timestamp), "actor": emails[event.actor] ?? event.actor, "action": event.action,
                "target": event.target ?? "", "service": event.service ?? "", "failed": event.result != "success", "result": event.result,
                "details": event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            ]
        }
        var older: String?
        if events.count > Self.pageSize, let last = shown.last {
            var components = URLComponents()
            components.path = "/admin/audit"
            components.queryItems = [action.map { URLQueryItem(name: "action", value: $0) }, URLQueryItem(name: "before", value: String(last.seq))]
                .compactMap { $0 }
            older = components.string
        }
        return HTMLPage.render(
            "admin-audit",
            title: "Audit log",
            context: [
                "events": rows, "action": action ?? "", "older": older as Any, "chain": chain as Any,
                "csrf": sessions.csrfToken(for: context.sessionToken),
            ],
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }
}
