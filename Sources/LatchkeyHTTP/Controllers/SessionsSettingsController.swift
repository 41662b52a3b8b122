import Foundation
import Hummingbird
import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyStorage

/// Settings › Sessions (`/settings/sessions`): the browsers the person is signed in on (when and how they signed in,
/// when last seen, from where, which browser, this one marked); end one, or sign out everywhere — every session of
/// theirs, this one included, and, as signing out does, every application they authorized through MCP. A WEAK session
/// may look but not end anything (its posts are sent to sign in first).
struct SessionsSettingsController {
    let sessions: WebSessions
    let audit: AuditLog
    /// Signing out everywhere revokes the applications the person authorized, as signing out does.
    let authorizationServer: AuthorizationServer?
    let secureCookies: Bool

    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.get("settings/sessions", use: list)
        group.post("settings/sessions/end-all", use: endAll)
        group.get("settings/sessions/end-all", use: confirmEndAll)
        group.get("settings/sessions/:id/end", use: confirmEnd)
        group.post("settings/sessions/:id/end", use: end)
    }

    @Sendable func list(_ request: Request, context: SignedInContext) async throws -> Response {
        let listed = try await sessions.list(user: context.user, current: context.sessionToken)
        return HTMLPage.render(
            "settings-sessions",
            title: "Sessions",
            context: ["sessions": listed.map(Self.row), "others": listed.contains { !$0.isCurrent }, "flash": PageFlash.message(request) as Any],
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    @Sendable func confirmEnd(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let session = try await sessions.list(user: context.user, current: context.sessionToken).first(where: { $0.record.publicID == id })
        else {
            throw LatchkeyError.notFound("You have no session with this id; it may have ended already. Reload the list of your sessions.")
        }
        var values = Self.row(session)
        values["csrf"] = sessions.csrfToken(for: context.sessionToken)
        return HTMLPage.render(
            "settings-session-end",
            title: session.isCurrent ? "Sign out of this browser" : "End a session",
            context: values,
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func end(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let current = try await sessions.list(user: context.user, current: context.sessionToken).first { $0.isCurrent }
        guard id.utf8.count <= 64, try await sessions.end(publicID: id, user: context.user) else {
            throw LatchkeyError.notFound("You have no session with this id; it may have ended already. Reload the list of your sessions.")
        }
        try await audit.append(
            AuditRecord(actor: actor(request, context), action: "user.sign_out", target: context.user.id, details: ["session": id]),
            tenantID: context.user.tenantID
        )
        guard current?.record.publicID != id else {
            // Ending this browser's own session is signing out here.
            var response = WebResponse.redirect(to: "/login")
            response.setCookie(WebCookies.clearedSession(secure: secureCookies))
            return response
        }
        return WebResponse.redirect(to: "/settings/sessions", flash: "That session has ended; the browser is signed out.")
    }

    @Sendable func confirmEndAll(_ request: Request, context: SignedInContext) async throws -> Response {
        let count = try await sessions.list(user: context.user, current: nil).count
        let apps = try await authorizationServer?.grants(of: context.user.id).count ?? 0
        return HTMLPage.render(
            "settings-sessions-end-all",
            title: "Sign out everywhere",
            context: [
                "count": count, "several": count != 1, "apps": apps, "hasApps": apps > 0, "oneApp": apps == 1,
                "csrf": sessions.csrfToken(for: context.sessionToken),
            ],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func endAll(_ request: Request, context: SignedInContext) async throws -> Response {
        let actor = actor(request, context)
        let ended = try await sessions.endAll(user: context.user)
        try await audit.append(
            AuditRecord(actor: actor, action: "user.sessions_ended", target: context.user.id, details: ["sessions": String(ended)]),
            tenantID: context.user.tenantID
        )
        let revoked = try await authorizationServer?.revokeAllGrants(userID: context.user.id, actor: actor) ?? 0
        // The sign-in page says the person is signed out and how many applications lost access.
        var response = WebResponse.redirect(to: "/login?signed_out=\(revoked)")
        response.setCookie(WebCookies.clearedSession(secure: secureCookies))
        return response
    }

    /// One session as the pages show it.
    static func row(_ item: WebSessions.Listed) -> [String: Any] {
        let record = item.record
        return [
            "id": record.publicID, "created": PageDates.minute(record.createdAt), "method": record.method.displayName,
            "weak": record.strength == .weak, "lastSeen": PageDates.minute(record.lastSeenAt), "address": record.ip ?? "unknown",
            "browser": BrowserName.short(record.userAgent), "current": item.isCurrent,
        ]
    }

    private func actor(_ request: Request, _ context: SignedInContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
