import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import LatchkeyConnect
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyProviders
import LatchkeyStorage
import NIOPosix

/// `/admin/connections` and `/admin/users`: the tenant administrator's pages, on a group of `AdminPageContext`
/// (members get 403) under the CSRF middleware.
struct AdminPagesController {
    let store: IntegrationStore
    let catalog: ProviderCatalog
    let tenants: TenantService
    let sessions: WebSessions
    let health: HealthMonitor

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/connections", use: connections)
        group.get("admin/users", use: users)
        group.post("admin/users", use: addUser)
    }

    private func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }

    @Sendable func connections(_ request: Request, context: AdminPageContext) async throws -> Response {
        var rows: [[String: Any]] = []
        for connection in try await tenants.directory.connections(tenantID: context.tenantID) {
            let state = try await health.health(of: connection)
            let integration = try await store.integrations.find(id: connection.integrationID, tenantID: context.tenantID)
            rows.append([
                "id": connection.id,
                "integration": connection.integrationKey,
                "name": integration?.displayName ?? integration.flatMap { catalog.provider(id: $0.provider)?.displayName }
                    ?? connection.integrationKey,
                "health": state.state.rawValue,
                "problem": state.state != .healthy,
                "reasons": state.reasons.map(Self.plainReason).joined(separator: "; "),
                "active": state.counts.active,
                "needsReauth": state.counts.needsReauth,
                "expired": state.counts.expired,
            ])
        }
        return HTMLPage.render(
            "admin-connections",
            title: "Connections and health",
            context: ["connections": rows, "alerts": try await misconfiguredAlerts(tenantID: context.tenantID)],
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    /// A banner for every integration whose OAuth client the provider refused: nothing refreshes until it is fixed.
    private func misconfiguredAlerts(tenantID: String) async throws -> [String] {
        try await store.integrations.list(tenantID: tenantID).filter { $0.status == .misconfigured }.map { integration in
            let name = integration.displayName ?? catalog.provider(id: integration.provider)?.displayName ?? integration.key
            return "\(name) refused this server's OAuth client, so its tokens cannot be refreshed. "
                + "Check the client id and secret of the integration \(integration.key) (it clears once they change)."
        }
    }

    static func plainReason(_ code: String) -> String {
        switch code {
        case "shared_credential_unusable": "the shared credential cannot be used"
        case "most_credentials_unusable": "at least half of the connected accounts need reconnecting"
        case "some_credentials_unusable": "more than 10% of the connected accounts need reconnecting"
        case "circuit_open": "calls are paused after repeated provider failures"
        case "provider_probe_failing": "the provider's API is not answering"
        case "provider_probe_flaky": "the provider's API fails now and then"
        case "integration_misconfigured": "the provider refused the OAuth client; check its id and secret"
        default: code
        }
    }

    @Sendable func users(_ request: Request, context: AdminPageContext) async throws -> Response {
        let flash = PageFlash.message(request)
        return try await usersPage(context, flash: flash, error: nil)
    }

    private func usersPage(_ context: AdminPageContext, flash: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await tenants.users.list(tenantID: context.tenantID).map { ["email": $0.email, "name": $0.displayName, "admin": $0.isAdmin] }
        return HTMLPage.render(
            "admin-users",
            title: "Users",
            context: ["users": list, "csrf": sessions.csrfToken(for: context.sessionToken), "flash": flash as Any, "error": error as Any],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    @Sendable func addUser(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let email = form.trimmed("email").lowercased()
        let name = form.trimmed("name")
        let password = form["password"] ?? ""
        if let problem = UserRules.problem(email: email, name: name, password: password) {
            return try await usersPage(context, flash: nil, error: problem, status: .badRequest)
        }
        let hash = try await UserRules.hash(password)
        do {
            _ = try await tenants.createUser(
                tenantID: context.tenantID,
                email: email,
                displayName: name,
                passwordHash: hash,
                isAdmin: form["admin"] == "1",
                actor: actor(request, context)
            )
        } catch let error as LatchkeyError where error.code == .conflict {
            return try await usersPage(context, flash: nil, error: error.message, status: .badRequest)
        }
        return WebResponse.redirect(to: "/admin/users", flash: "User \(email) added.")
    }
}

/// The rules for console users, shared by the admin page and `latchkey users create`.
public enum UserRules {
    /// What is wrong with these details, in plain words, or nil.
    public static func problem(email: String, name: String, password: String) -> String? {
        if !SetupController.looksLikeEmail(email) { return "Enter a valid email address." }
        if name.isEmpty || name.count > 200 { return "Enter a name of up to 200 characters." }
        if password.count < 12 { return "Choose a password of at least 12 characters." }
        if password.utf8.count > 72 { return "Choose a password of at most 72 bytes." }
        return nil
    }

    /// bcrypt at cost 12, off the event loop.
    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: 12) }
    }
}
