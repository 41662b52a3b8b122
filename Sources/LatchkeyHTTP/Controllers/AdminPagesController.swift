import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyProviders
import LatchkeyStorage

/// `/admin/connections` and one Connection's page: the tenant administrator's health pages, on a group of `AdminPageContext`
/// (members get 403) under the CSRF middleware.
struct AdminPagesController {
    let store: IntegrationStore
    let catalog: ProviderCatalog
    let tenants: TenantService
    let sessions: WebSessions
    let health: HealthMonitor
    let sync: any SyncStore
    let apps: AppRepository
    let audit: AuditLog
    let clock: any LatchkeyClock

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/connections", use: connections)
        addConnectionRoutes(to: group)
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
