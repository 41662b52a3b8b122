import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/admin/sign-in`: the integrations that sign people in (single sign-on, social sign-in), a form per integration
/// that could (on or off, accounts created just in time, allowed email domains), and the redirect URI to register.
/// Each change audited as the API's equivalent.
struct AdminSignInPagesController {
    let sso: SingleSignOn
    let sessions: WebSessions

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/sign-in", use: show)
        group.post("admin/sign-in/:key", use: save)
    }

    @Sendable func show(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await page(context, flash: PageFlash.message(request), error: nil)
    }

    @Sendable func save(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let key = context.parameters.get("key") ?? ""
        let domains = (form["domains"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\r" }).map(String.init)
        let actor = AuditActor(
            id: "user:\(context.user.id)",
            ip: context.remoteAddress,
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
        )
        do {
            let saved = try await sso.save(
                key: key,
                // Named per integration: several forms on one page, each its own group of checkboxes.
                enabled: form["enabled-\(key)"] == "1",
                createUsers: form["createUsers-\(key)"] == "1",
                domains: domains,
                tenantID: context.tenantID,
                actor: actor
            )
            let name = try await sso.candidate(key: saved.integrationKey, tenantID: context.tenantID).name
            return WebResponse.redirect(
                to: "/admin/sign-in",
                flash: saved.enabled ? "People can now sign in with \(name)." : "Signing in with \(name) is off."
            )
        } catch let error as LatchkeyError where error.code != .internalError {
            return try await page(
                context,
                flash: nil,
                error: (key: key, message: error.message, domains: form["domains"] ?? ""),
                status: error.code == .notFound ? .notFound : .badRequest
            )
        }
    }

    private func page(
        _ context: AdminPageContext,
        flash: String?,
        error: (key: String, message: String, domains: String)?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let overview = try await sso.overview(tenantID: context.tenantID)
        let rows: [[String: Any]] = (overview.configured + overview.available).map { view in
            let failed = error?.key == view.integrationKey
            return [
                "key": view.integrationKey, "name": view.name, "kind": view.kind == "oidc" ? "Single sign-on (OpenID Connect)" : "Social sign-in",
                "enabled": view.enabled, "createUsers": view.createUsers,
                "domains": failed ? error?.domains ?? "" : view.allowedDomains.joined(separator: " "),
                "problem": view.problem as Any, "error": (failed ? error?.message : nil) as Any,
                "status": view.problem != nil ? "Cannot sign people in" : view.enabled ? "On" : "Off",
            ]
        }
        var values: [String: Any] = [
            "ssoRows": rows, "ssoAnyRows": !rows.isEmpty, "ssoRedirectURI": sso.redirectURI,
            "csrf": sessions.csrfToken(for: context.sessionToken), "flash": flash as Any,
        ]
        if let error, !rows.contains(where: { ($0["key"] as? String) == error.key }) { values["ssoError"] = error.message }
        if let error, values["ssoError"] == nil { values["ssoSummary"] = error.message }
        return HTMLPage.render(
            "admin-sign-in",
            title: "Sign-in",
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }
}
