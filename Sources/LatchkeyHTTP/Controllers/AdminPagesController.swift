import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyProviders
import LatchkeyStorage

/// `/admin/integrations` and `/admin/connections`: the tenant administrator's pages, on a group of `AdminPageContext`
/// (members get 403) under the CSRF middleware.
struct AdminPagesController {
    let store: IntegrationStore
    let rules: IntegrationRules
    let catalog: ProviderCatalog
    let tenants: TenantService
    let sessions: WebSessions
    let callbackURL: String
    let health: HealthMonitor

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/connections", use: connections)
        group.get("admin/integrations", use: integrations)
        group.post("admin/integrations", use: addIntegration)
        group.post("admin/integrations/:key/toggle", use: toggle)
    }

    private func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }

    @Sendable func integrations(_ request: Request, context: AdminPageContext) async throws -> Response {
        let flash = PageFlash.message(request)
        return try await integrationsPage(context, flash: flash, error: nil)
    }

    private func integrationsPage(
        _ context: AdminPageContext,
        flash: String?,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let csrf = sessions.csrfToken(for: context.sessionToken)
        let rows: [[String: Any]] = try await store.integrations.list(tenantID: context.tenantID).map { integration in
            let provider = catalog.provider(id: integration.provider)
            return [
                "key": integration.key,
                "name": integration.displayName ?? provider?.displayName ?? integration.provider,
                "clientID": integration.clientID ?? "—",
                "hasSecret": integration.hasClientSecret,
                "scopes": (integration.scopes.isEmpty ? provider?.oauth?.defaultScopes ?? [] : integration.scopes).joined(separator: " "),
                "enabled": integration.enabled,
                "csrf": csrf,
            ]
        }
        let providers = catalog.all.map { ["id": $0.id, "name": $0.displayName, "mode": $0.authMode.rawValue] }
        return HTMLPage.render(
            "admin-integrations",
            title: "Integrations",
            context: [
                "integrations": rows, "providers": providers, "csrf": csrf, "flash": flash as Any, "error": error as Any, "callbackURL": callbackURL,
                "alerts": try await misconfiguredAlerts(tenantID: context.tenantID),
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    @Sendable func addIntegration(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let provider = form.trimmed("provider")
        let key = form.trimmed("key")
        let secret = form["clientSecret"] ?? ""
        let new = IntegrationStore.NewIntegration(
            key: key.isEmpty ? provider : key,
            provider: provider,
            clientID: form.trimmed("clientId").isEmpty ? nil : form.trimmed("clientId"),
            clientSecret: secret.isEmpty ? nil : secret,
            scopes: form.trimmed("scopes").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        )
        do {
            let integration = try await store.create(try await rules.validated(new), tenantID: context.tenantID, actor: actor(request, context))
            return WebResponse.redirect(to: "/admin/integrations", flash: "Integration \(integration.key) added.")
        } catch let error as LatchkeyError where error.code == .invalidRequest || error.code == .conflict {
            let details = error.fields.map { "\($0.path) \($0.message)" }.joined(separator: "; ")
            return try await integrationsPage(context, flash: nil, error: details.isEmpty ? error.message : details, status: .badRequest)
        }
    }

    @Sendable func toggle(_ request: Request, context: AdminPageContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        guard IntegrationRules.isIntegrationKey(key) || IntegrationRules.isStoredKey(key),
            let integration = try await store.integrations.find(key: key, tenantID: context.tenantID)
        else { throw LatchkeyError.notFound("integration") }
        _ = try await store.update(
            key: key,
            tenantID: context.tenantID,
            changes: .init(enabled: !integration.enabled),
            actor: actor(request, context)
        )
        return WebResponse.redirect(to: "/admin/integrations", flash: "Integration \(key) updated.")
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
}
