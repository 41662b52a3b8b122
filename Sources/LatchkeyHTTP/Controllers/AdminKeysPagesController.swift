import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/admin/keys`: the tenant's admin API keys (`lk_live_…`) in the console — list them with their last use, mint one
/// (shown once, with a copy button), revoke one after a confirmation. The same operations as `latchkey keys
/// create-admin` and the key store; each audited as the administrator who did it.
struct AdminKeysPagesController {
    let tenants: TenantService
    let sessions: WebSessions

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/keys", use: list)
        group.post("admin/keys", use: create)
        group.get("admin/keys/:id/revoke", use: confirmRevoke)
        group.post("admin/keys/:id/revoke", use: revoke)
    }

    @Sendable func list(_ request: Request, context: AdminPageContext) async throws -> Response {
        let flash = PageFlash.message(request)
        return try await page(context, flash: flash)
    }

    @Sendable func create(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let name = form.trimmed("name")
        guard !name.isEmpty, name.count <= 100 else {
            return try await page(
                context,
                error: "Give the key a name of up to 100 characters, e.g. what will use it.",
                status: .badRequest,
                name: name
            )
        }
        let (key, plaintext) = try await tenants.createAdminKey(tenantID: context.tenantID, name: name, actor: actor(request, context))
        // Shown on this answer only (no redirect: nothing to reload it from); the page may run the copy script.
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        return try await page(context, created: (key, plaintext), policy: policy)
    }

    @Sendable func confirmRevoke(_ request: Request, context: AdminPageContext) async throws -> Response {
        let key = try await activeKey(context)
        return HTMLPage.render(
            "admin-key-revoke",
            title: "Revoke \(key.name)",
            context: ["id": key.id, "name": key.name, "prefix": key.prefix, "csrf": sessions.csrfToken(for: context.sessionToken)],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func revoke(_ request: Request, context: AdminPageContext) async throws -> Response {
        let key = try await activeKey(context)
        _ = try await tenants.revokeAdminKey(id: key.id, tenantID: context.tenantID, actor: actor(request, context))
        return WebResponse.redirect(to: "/admin/keys", flash: "The key \(key.name) was revoked; it no longer works.")
    }

    /// The tenant's key named in the path, not yet revoked; not found otherwise (another tenant's id included).
    private func activeKey(_ context: AdminPageContext) async throws -> AdminKey {
        let id = context.parameters.get("id") ?? ""
        guard let key = try await tenants.adminKeys.list(tenantID: context.tenantID).first(where: { $0.id == id }), key.revokedAt == nil
        else { throw LatchkeyError.notFound("active admin key") }
        return key
    }

    private func page(
        _ context: AdminPageContext,
        flash: String? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok,
        name: String = "",
        created: (AdminKey, String)? = nil,
        policy: ContentSecurityPolicy = .standard
    ) async throws -> Response {
        let keys = try await tenants.adminKeys.list(tenantID: context.tenantID).sorted { $0.createdAt > $1.createdAt }
        let rows: [[String: Any]] = keys.map { key in
            [
                "id": key.id, "name": key.name, "prefix": key.prefix, "created": PageDates.minute(key.createdAt),
                "roleName": key.role == .auditor ? "Auditor (reads only)" : "Administrator",
                "lastUsed": key.lastUsedAt.map(PageDates.minute) ?? "never", "revoked": key.revokedAt.map(PageDates.minute) as Any,
            ]
        }
        var values: [String: Any] = [
            "keys": rows, "csrf": sessions.csrfToken(for: context.sessionToken), "flash": flash as Any, "error": error as Any, "name": name,
        ]
        if let (key, plaintext) = created { values["created"] = ["name": key.name, "key": plaintext] }
        return HTMLPage.render(
            "admin-keys",
            title: "Admin API keys",
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true,
            policy: policy
        )
    }

    private func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}

/// Dates as the console shows them: UTC, to the minute.
enum PageDates {
    static func minute(_ date: Date) -> String {
        let text = CompactJSONObject.iso8601(date)  // 2026-12-06T18:07:45Z
        return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }
}
