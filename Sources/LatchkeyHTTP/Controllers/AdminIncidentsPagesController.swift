import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// `/admin/incidents`: incident response in the console. Revoke every credential of an integration, an app or the
/// tenant (what it covers is shown first; the administrator types a confirmation phrase to run it; the run's result
/// has a page of its own), force-refresh an integration's credentials, and stop an admin key or an app's key at once.
/// The same operations as `/api/v1/incidents` and `latchkey incidents`; each audited as the administrator.
struct AdminIncidentsPagesController {
    let incidents: IncidentResponse
    let scopes: IncidentScopes
    let apps: AppService
    let tenants: TenantService
    let sessions: WebSessions

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/incidents", use: page)
        group.post("admin/incidents/revoke/preview", use: preview)
        group.post("admin/incidents/revoke", use: revoke)
        group.get("admin/incidents/jobs/:id", use: job)
        group.post("admin/incidents/refresh", use: refresh)
        group.post("admin/incidents/admin-keys/:id/revoke", use: revokeAdminKey)
        group.post("admin/incidents/apps/:id/disable", use: disableApp)
    }

    @Sendable func page(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await render(context, flash: PageFlash.message(request))
    }

    /// What the chosen scope covers, and the form that runs the revocation once the phrase is typed.
    @Sendable func preview(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let scope: IncidentScope
        do {
            scope = try await self.scope(form, context)
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            return try await render(context, error: Self.problem(error), status: .badRequest)
        }
        return try await confirmPage(scope, context: context)
    }

    @Sendable func revoke(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let scope: IncidentScope
        do {
            scope = try await self.scope(form, context)
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            return try await render(context, error: Self.problem(error), status: .badRequest)
        }
        do {
            try IncidentResponse.confirm(form["confirm"], for: scope)
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            let message = "Nothing was revoked: the phrase did not match. Type \(scope.confirmationPhrase) exactly to go on."
            return try await confirmPage(scope, context: context, error: message, status: .badRequest)
        }
        let job = try await incidents.revoke(scope, tenantID: context.tenantID, actor: actor(request, context))
        return WebResponse.redirect(to: "/admin/incidents/jobs/\(job.id)")
    }

    /// A revocation run: its progress or result (a run cut short is resumed first).
    @Sendable func job(_ request: Request, context: AdminPageContext) async throws -> Response {
        guard let id = context.parameters.get("id"), let uuid = UUID(uuidString: id) else { throw LatchkeyError.notFound("incident job") }
        let job = try await incidents.job(id: uuid.uuidString.lowercased(), tenantID: context.tenantID, actor: actor(request, context))
        return HTMLPage.render(
            "admin-incident-job",
            title: "Revocation \(job.status.rawValue)",
            context: Self.values(job),
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func refresh(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let key: String
        do {
            key = try await scopes.integrationKey(form.trimmed("integration"), tenantID: context.tenantID)
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            return try await render(context, error: "Choose an integration to refresh.", status: .badRequest)
        }
        let counts = try await incidents.forceRefresh(integration: key, tenantID: context.tenantID, actor: actor(request, context))
        let message =
            "\(key): \(counts.refreshed) refreshed, \(counts.failed) failed (old token kept), \(counts.needsReauth) need reconnecting, \(counts.skipped) not OAuth (nothing to refresh)."
        return WebResponse.redirect(to: "/admin/incidents", flash: message)
    }

    @Sendable func revokeAdminKey(_ request: Request, context: AdminPageContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let key = try await tenants.adminKeys.list(tenantID: context.tenantID).first(where: { $0.id == id }), key.revokedAt == nil else {
            throw LatchkeyError.notFound("active admin key")
        }
        _ = try await tenants.revokeAdminKey(id: key.id, tenantID: context.tenantID, actor: actor(request, context))
        return WebResponse.redirect(to: "/admin/incidents", flash: "The admin key \(key.name) was revoked: its next request is refused.")
    }

    @Sendable func disableApp(_ request: Request, context: AdminPageContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let app = try await apps.apps.find(id: id, tenantID: context.tenantID), app.kind == .external else {
            throw LatchkeyError.notFound("app")
        }
        var changes = AppService.Changes()
        changes.status = .disabled
        _ = try await apps.update(id: app.id, tenantID: context.tenantID, changes: changes, actor: actor(request, context))
        return WebResponse.redirect(
            to: "/admin/incidents",
            flash: "The app \(app.name) was disabled: its key is refused from its next request. Enable it again on its page."
        )
    }

    // MARK: Rendering

    private func scope(_ form: WebForm, _ context: AdminPageContext) async throws -> IncidentScope {
        let kind = form.trimmed("scope")
        return try await scopes.scope(
            kind,
            integration: kind == "integration" ? form.trimmed("integration") : nil,
            app: kind == "app" ? form.trimmed("app") : nil,
            tenantID: context.tenantID
        )
    }

    private func confirmPage(
        _ scope: IncidentScope,
        context: AdminPageContext,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let preview = try await incidents.preview(scope, tenantID: context.tenantID)
        var values: [String: Any] = [
            "csrf": sessions.csrfToken(for: context.sessionToken),
            "scope": scope.kind,
            "phrase": scope.confirmationPhrase,
            "total": preview.total,
            "counts": preview.byIntegration.map { ["integration": $0.integration, "credentials": $0.credentials] },
            "error": error as Any,
        ]
        switch scope {
        case .integration(let key):
            values["integration"] = key
            values["what"] = "every credential of the integration \(key)"
        case .app(let id):
            values["app"] = id
            let name = try await apps.apps.find(id: id, tenantID: context.tenantID)?.name ?? id
            values["what"] = "every credential of the app \(name)"
        case .tenant:
            values["what"] = "every credential of this tenant"
        }
        return HTMLPage.render(
            "admin-incident-confirm",
            title: "Revoke credentials?",
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    private func render(
        _ context: AdminPageContext,
        flash: String? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let integrations = try await scopes.integrations.list(tenantID: context.tenantID).map(\.key).sorted()
        let allApps = try await apps.list(tenantID: context.tenantID)
        let keys = try await tenants.adminKeys.list(tenantID: context.tenantID).filter { $0.revokedAt == nil }
        let jobs = try await incidents.jobs.list(tenantID: context.tenantID, limit: 10)
        let values: [String: Any] = [
            "csrf": sessions.csrfToken(for: context.sessionToken),
            "flash": flash as Any,
            "error": error as Any,
            "integrations": integrations.map { ["key": $0] },
            "hasIntegrations": Self.flag(!integrations.isEmpty),
            "apps": allApps.map { ["id": $0.id, "name": $0.name] },
            "externalApps": allApps.filter { $0.kind == .external && $0.status == .active }.map { ["id": $0.id, "name": $0.name] },
            "adminKeys": keys.map {
                ["id": $0.id, "name": $0.name, "prefix": $0.prefix, "lastUsed": $0.lastUsedAt.map(PageDates.minute) ?? "never"]
            },
            "jobs": jobs.map(Self.values),
        ]
        return HTMLPage.render(
            "admin-incidents",
            title: "Incident response",
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    static func values(_ job: IncidentJob) -> [String: Any] {
        let scope: String =
            switch job.scope {
            case .integration(let key): "integration \(key)"
            case .app(let id): "app \(id)"
            case .tenant: "the whole tenant"
            }
        return [
            "id": job.id, "scope": scope, "status": job.status.rawValue, "running": flag(job.status == .running),
            "failedRun": flag(job.status == .failed), "total": job.total, "processed": job.processed,
            "revoked": job.revoked, "notSupported": job.notSupported, "revocationFailed": job.revocationFailed,
            "warn": flag(job.revocationFailed > 0 || job.status != .done), "error": job.error as Any,
            "started": PageDates.minute(job.startedAt), "finished": job.finishedAt.map(PageDates.minute) as Any,
        ]
    }

    /// `true`, or nothing (a section the template leaves out).
    static func flag(_ value: Bool) -> Any { value ? true : Bool?.none as Any }

    /// A refused field as a sentence: "Integration is not an integration of this tenant."
    static func problem(_ error: LatchkeyError) -> String {
        guard let field = error.fields.first else { return error.message }
        let sentence = "\(field.path) \(field.message)"
        return sentence.prefix(1).uppercased() + sentence.dropFirst() + "."
    }

    private func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
