import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyProviders
import LatchkeyStorage
import NIOCore

/// `/admin/apps`: the tenant administrator's pages for apps — list and create (the key shown once), settings and
/// branding with a preview, key regeneration and deletion behind a confirmation, per-integration OAuth clients, the
/// app's Connections with their shared credential, and its end users. Every change goes through ``AppService`` (or
/// the vault and the connect flow), which audit it.
struct AppsPagesController {
    let apps: AppService
    let connect: ConnectService
    let vault: CredentialVault
    let health: HealthMonitor
    let sessions: WebSessions
    let database: Database
    let clock: any LatchkeyClock
    let publicURL: String
    let revokeAndDelete: AppService.RevokeAndDelete
    let rateLimits: ConnectionRateLimits

    /// End users per page of the app page.
    static let endUsersPerPage = 25

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/apps", use: list)
        group.post("admin/apps", use: create)
        group.get("admin/apps/:id", use: show)
        group.post("admin/apps/:id", use: update)
        group.get("admin/apps/:id/regenerate", use: confirmRegenerate)
        group.post("admin/apps/:id/regenerate", use: regenerate)
        group.get("admin/apps/:id/delete", use: confirmDelete)
        group.post("admin/apps/:id/delete", use: delete)
        group.post("admin/apps/:id/integrations/:key/config", use: putConfig)
        group.post("admin/apps/:id/integrations/:key/config/delete", use: deleteConfig)
        group.post("admin/apps/:id/connections", use: addConnection)
        group.post("admin/apps/:id/connections/:connection/connect-shared", use: connectShared)
        group.post("admin/apps/:id/connections/:connection/import", use: importShared)
        group.post("admin/apps/:id/connections/:connection/rate-limit", use: setRateLimit)
    }

    func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }

    func csrf(_ context: AdminPageContext) -> String { sessions.csrfToken(for: context.sessionToken) }

    /// The tenant's app named by the path; 400 for a malformed id, 404 for an unknown one or another tenant's.
    func app(_ context: AdminPageContext) async throws -> App {
        try await apps.app(id: try PathID.parse(context, what: "app"), tenantID: context.tenantID)
    }

    // MARK: List and create

    @Sendable func list(_ request: Request, context: AdminPageContext) async throws -> Response {
        let flash = PageFlash.message(request)
        return try await listPage(context, form: AppPageForm(), flash: flash, error: nil)
    }

    private func listPage(
        _ context: AdminPageContext,
        form: AppPageForm,
        flash: String?,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var rows: [[String: Any]] = []
        for app in try await apps.list(tenantID: context.tenantID) {
            rows.append([
                "id": app.id,
                "name": app.name,
                "console": app.kind == .console,
                "status": app.status.rawValue,
                "disabled": app.status == .disabled,
                "keyPrefix": app.keyPrefix.map { "\($0)…" } ?? "—",
                "endUsers": try await apps.endUsers.count(appID: app.id, tenantID: context.tenantID),
            ])
        }
        return HTMLPage.render(
            "admin-apps",
            title: "Apps",
            context: ["apps": rows, "csrf": csrf(context), "form": form.context, "flash": flash as Any, "error": error as Any],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    @Sendable func create(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = AppPageForm(try await WebForm.read(request))
        let new: AppService.NewApp
        do {
            new = AppService.NewApp(
                name: try form.validName(),
                description: try form.validDescription(),
                branding: try form.validBranding(),
                allowedRedirectOrigins: try form.validOrigins()
            )
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            return try await listPage(context, form: form, flash: nil, error: Self.plain(error), status: .badRequest)
        }
        let (app, key) = try await apps.create(new, tenantID: context.tenantID, actor: actor(request, context))
        return keyPage(app, key: key, heading: "App \(app.name) created", context: context, status: .created)
    }

    /// The new key, in the answer to the form that made it (never in a URL or a redirect): `no-store`, and a copy
    /// button run by our own static script.
    func keyPage(_ app: App, key: String, heading: String, context: AdminPageContext, status: HTTPResponse.Status = .ok) -> Response {
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        return HTMLPage.render(
            "admin-app-key",
            title: heading,
            context: ["heading": heading, "name": app.name, "id": app.id, "apiKey": key, "publicURL": publicURL],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            policy: policy
        )
    }

    // MARK: Show and update

    @Sendable func show(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        let query = request.uri.queryParameters
        let flash = PageFlash.message(request)
        let cursor = query.get("cursor").flatMap { $0.count <= 200 ? String($0) : nil }
        return try await detailPage(app, context: context, form: AppPageForm(app), flash: flash, error: nil, cursor: cursor)
    }

    @Sendable func update(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        let form = AppPageForm(try await WebForm.read(request))
        var changes = AppService.Changes()
        do {
            changes.name = try form.validName()
            changes.description = .some(try form.validDescription())
            changes.branding = try form.validBranding()
            changes.allowedRedirectOrigins = try form.validOrigins()
            if app.kind == .external { changes.status = try form.validStatus() }
            _ = try await apps.update(id: app.id, tenantID: context.tenantID, changes: changes, actor: actor(request, context))
        } catch let error as LatchkeyError where error.code == .invalidRequest || error.code == .conflict {
            return try await detailPage(app, context: context, form: form, flash: nil, error: Self.plain(error), cursor: nil, status: .badRequest)
        }
        return WebResponse.redirect(to: "/admin/apps/\(app.id)", flash: "Settings saved.")
    }

    // MARK: Regenerate and delete

    @Sendable func confirmRegenerate(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        guard app.kind == .external else { throw LatchkeyError.conflict(Self.consoleHasNoKey) }
        return confirmPage(app, kind: .regenerate, context: context, error: nil)
    }

    @Sendable func regenerate(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        guard app.kind == .external else { throw LatchkeyError.conflict(Self.consoleHasNoKey) }
        guard try await WebForm.read(request)["confirm"] == "yes" else {
            return confirmPage(
                app,
                kind: .regenerate,
                context: context,
                error: "Tick the box to confirm. The key was not changed.",
                status: .badRequest
            )
        }
        let (updated, key) = try await apps.regenerateKey(id: app.id, tenantID: context.tenantID, actor: actor(request, context))
        return keyPage(updated, key: key, heading: "New key for \(updated.name)", context: context)
    }

    @Sendable func confirmDelete(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        guard app.kind == .external else { throw LatchkeyError.conflict(Self.consoleCannotGo) }
        return confirmPage(app, kind: .delete, context: context, error: nil)
    }

    @Sendable func delete(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        guard app.kind == .external else { throw LatchkeyError.conflict(Self.consoleCannotGo) }
        guard try await WebForm.read(request)["confirm"] == "yes" else {
            return confirmPage(app, kind: .delete, context: context, error: "Tick the box to confirm. Nothing was deleted.", status: .badRequest)
        }
        try await apps.delete(id: app.id, tenantID: context.tenantID, actor: actor(request, context), revokeAndDelete: revokeAndDelete)
        return WebResponse.redirect(to: "/admin/apps", flash: "App \(app.name) deleted.")
    }

    static let consoleHasNoKey =
        "The console app has no key of its own: the web console and admin keys (lk_live_…) act through it."
    static let consoleCannotGo = "The console app cannot be deleted: the web console and admin keys act through it."

    enum Confirmation { case regenerate, delete }

    private func confirmPage(
        _ app: App,
        kind: Confirmation,
        context: AdminPageContext,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let values: [String: Any] =
            switch kind {
            case .regenerate:
                [
                    "heading": "Regenerate the key of \(app.name)?",
                    "message": "A new key is made and shown once. The current key (\(app.keyPrefix ?? "lk_app_")…) stops working at once.",
                    "check": "I understand that the current key stops working",
                    "button": "Regenerate key",
                    "action": "/admin/apps/\(app.id)/regenerate",
                ]
            case .delete:
                [
                    "heading": "Delete \(app.name)?",
                    "message": "Its key stops working, and its end users, connections and credentials are removed "
                        + "(tokens are revoked at the providers where possible). This cannot be undone.",
                    "check": "I understand that this deletes the app and everything under it",
                    "button": "Delete app",
                    "action": "/admin/apps/\(app.id)/delete",
                ]
            }
        return HTMLPage.render(
            "admin-app-confirm",
            title: values["heading"] as? String ?? "Confirm",
            context: values.merging(["id": app.id, "csrf": csrf(context), "error": error as Any]) { $1 },
            status: status,
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    /// An invalid-request error in plain words: the message, with each field's problem.
    static func plain(_ error: LatchkeyError) -> String {
        let details = error.fields.map { "\($0.path) \($0.message)" }.joined(separator: "; ")
        return details.isEmpty ? error.message : details + "."
    }
}
