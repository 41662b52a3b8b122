import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyProviders
import LatchkeyStorage

/// The app page's sections: branding preview, OAuth clients, Connections with their shared credential, end users.
extension AppsPagesController {
    func detailPage(
        _ app: App,
        context: AdminPageContext,
        form: AppPageForm,
        flash: String?,
        error: String?,
        cursor: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let csrf = csrf(context)
        let integrations = try await connect.integrations.integrations.list(tenantID: context.tenantID)
        let providerOf: (Integration) -> Provider? = { connect.catalog.provider(id: $0.provider) }
        let name: (Integration) -> String = { $0.displayName ?? providerOf($0)?.displayName ?? $0.key }

        var configs: [[String: Any]] = []
        for integration in integrations where providerOf(integration)?.authMode == .oauth2 {
            let found = try await apps.configs.find(appID: app.id, integrationID: integration.id, tenantID: context.tenantID)
            configs.append([
                "key": integration.key, "name": name(integration), "appID": app.id, "csrf": csrf,
                "configured": found != nil, "clientID": found?.0.clientID ?? "", "hasSecret": found?.0.hasClientSecret ?? false,
                "scopes": (found?.0.scopes ?? []).joined(separator: " "),
            ])
        }

        var connections: [[String: Any]] = []
        var offered: [ConnectService.Service] = []
        let mine = try await vault.directory.connections(tenantID: context.tenantID).filter { $0.appID == app.id }
        for connection in mine {
            let integration = integrations.first { $0.id == connection.integrationID }
            let state = try await health.health(of: connection)
            let shared = try await connect.sharedCredentials(of: connection).first
            var oauth = false
            if app.kind == .external, let integration, integration.enabled, let provider = providerOf(integration),
                provider.authMode == .oauth2
            {
                let service = ConnectService.Service(integration: integration, provider: provider)
                oauth = ConnectForm(service: service, reconnect: nil).fields.isEmpty
                if oauth { offered.append(service) }
            }
            connections.append([
                "id": connection.id, "appID": app.id, "csrf": csrf, "integration": connection.integrationKey,
                "name": integration.map(name) ?? connection.integrationKey,
                "health": state.state.rawValue, "problem": state.state != .healthy,
                "active": state.counts.active, "expired": state.counts.expired, "needsReauth": state.counts.needsReauth,
                "shared": shared.map { ["account": $0.providerAccount ?? $0.label ?? "stored", "status": $0.status.rawValue] } as Any,
                "oauth": oauth, "rate": try await rateRow(connection),
            ])
        }
        let unconnected = integrations.filter { integration in integration.enabled && !mine.contains { $0.integrationID == integration.id } }

        let page = try await apps.endUsers(appID: app.id, tenantID: context.tenantID, limit: Self.endUsersPerPage, cursor: cursor)
        let endUsers: [[String: Any]] = page.items.map { summary in
            [
                "externalID": summary.endUser.externalID, "name": summary.endUser.displayName ?? summary.endUser.email ?? "",
                "active": summary.active, "expired": summary.expired, "needsReauth": summary.needsReauth,
            ]
        }

        let brandingName = app.branding.displayName ?? app.name
        let values: [String: Any] = [
            "app": [
                "id": app.id, "name": app.name, "console": app.kind == .console, "status": app.status.rawValue,
                "disabled": app.status == .disabled, "keyPrefix": app.keyPrefix as Any,
            ],
            "preview": [
                "name": brandingName, "initial": String(brandingName.prefix(1)).uppercased(),
                "accent": app.branding.accentColor ?? "#3b5bdb", "logo": app.branding.logoURL as Any, "privacy": app.branding.privacyURL as Any,
            ],
            "form": form.context, "csrf": csrf, "flash": flash as Any, "error": error as Any,
            "configs": configs, "connections": connections,
            "integrations": unconnected.map { ["key": $0.key, "name": name($0)] }, "hasIntegrations": !unconnected.isEmpty,
            "endUsers": endUsers, "hasEndUsers": !endUsers.isEmpty, "next": page.nextCursor as Any,
        ]
        return HTMLPage.render(
            "admin-app",
            title: app.name,
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true,
            // *Connect shared account* answers with a redirect to the provider.
            policy: ContentSecurityPolicy(formActions: connect.formActionSources(for: offered))
        )
    }
}
