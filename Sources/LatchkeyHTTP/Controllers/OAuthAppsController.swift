import Foundation
import Hummingbird
import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyStorage

/// Settings → Authorized apps (`/settings/authorized-apps`): the applications the person authorized through the
/// authorization server, with their services and last use; the person changes the services or revokes at once.
struct OAuthAppsController {
    let server: AuthorizationServer
    let authorize: OAuthAuthorizeController
    let sessions: WebSessions

    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.get("settings/authorized-apps", use: list)
        group.post("settings/authorized-apps/:grantId/revoke", use: revoke)
        group.post("settings/authorized-apps/:grantId/services", use: services)
    }

    @Sendable func list(_ request: Request, context: SignedInContext) async throws -> Response {
        let grants = try await server.grants(of: context.user.id)
        let connected = try await authorize.connectedServices(of: context.user)
        let formatter = DateFormatter()
        formatter.dateStyle = .medium
        formatter.timeStyle = .short
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        let csrf = sessions.csrfToken(for: context.sessionToken)
        var apps: [[String: Any]] = []
        for grant in grants {
            let client = try? await server.client(id: grant.clientID)
            var services = connected.map { ["key": $0.key, "name": $0.name, "granted": grant.services.contains($0.key)] as [String: Any] }
            // A granted service since disconnected still shows, so that it can be taken away.
            for key in grant.services where !connected.contains(where: { $0.key == key }) {
                services.append(["key": key, "name": key, "granted": true])
            }
            apps.append([
                "id": grant.id,
                "name": client?.name ?? URLComponents(string: client?.redirectURIs.first ?? "")?.host ?? grant.clientID,
                "created": formatter.string(from: grant.createdAt),
                "lastUsed": grant.lastUsedAt.map(formatter.string(from:)) ?? "never",
                "services": services,
                "csrf": csrf,
            ])
        }
        let flash = PageFlash.message(request)
        return HTMLPage.render(
            "oauth-apps",
            title: "Authorized apps",
            context: ["apps": apps, "flash": flash as Any],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func revoke(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("grantId") ?? ""
        guard try await server.revokeGrant(id, userID: context.user.id, actor: actor(request, context)) else {
            throw LatchkeyError.notFound("You have no authorized app with this id; it may already be revoked.")
        }
        return WebResponse.redirect(to: "/settings/authorized-apps", flash: "Access revoked. That application can no longer use your services.")
    }

    @Sendable func services(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("grantId") ?? ""
        let form = try await WebForm.read(request)
        let grant = try await server.grants(of: context.user.id).first { $0.id == id }
        guard let grant else { throw LatchkeyError.notFound("You have no authorized app with this id; it may already be revoked.") }
        let known = Set(try await authorize.connectedServices(of: context.user).map(\.key)).union(grant.services)
        let chosen = known.sorted().filter { form["service.\($0)"] == "on" }
        _ = try await server.setServices(chosen, grantID: id, userID: context.user.id, actor: actor(request, context))
        return WebResponse.redirect(to: "/settings/authorized-apps", flash: "Services saved.")
    }

    private func actor(_ request: Request, _ context: SignedInContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
