import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `/admin`: the administrator's overview — how many users, integrations, connections, credentials and apps the
/// tenant has, the calls of the last 24 hours, and what needs attention, each item linking to where it is fixed.
struct AdminOverviewPagesController {
    let overview: AdminOverviewRepository
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let sessions: WebSessions
    let clock: any LatchkeyClock
    let keyRotation: KeyRotationScheduler
    /// The signed-in person's own credentials, for the banner of those needing reconnecting.
    let credentials: @Sendable (User) async throws -> [Credential]

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin", use: show)
    }

    @Sendable func show(_ request: Request, context: AdminPageContext) async throws -> Response {
        let counts = try await overview.overview(tenantID: context.tenantID, since: clock.now.addingTimeInterval(-86_400))
        var attention: [[String: Any]] = []
        let all = try await integrations.integrations.list(tenantID: context.tenantID)
        var names: [String: String] = [:]
        for integration in all {
            names[integration.key] = integration.displayName ?? catalog.provider(id: integration.provider)?.displayName ?? integration.key
        }
        for integration in all where integration.status == .misconfigured {
            let name = names[integration.key] ?? integration.key
            attention.append([
                "kind": "integration-misconfigured",
                "text": "\(name) refused this server's OAuth client, so its tokens cannot be refreshed. Check the client id and secret "
                    + "of the integration \(integration.key).",
                "href": "/admin/integrations", "action": "Open Integrations",
            ])
        }
        for service in counts.needingReauth {
            let name = service.displayName ?? catalog.provider(id: service.provider)?.displayName ?? service.integrationKey
            let accounts = service.count == 1 ? "1 connected account needs" : "\(service.count) connected accounts need"
            attention.append([
                "kind": "needs-reauth", "integration": service.integrationKey,
                "text": "\(name): \(accounts) reconnecting; the people who connected them reconnect in their Connection Center.",
                "href": "/admin/connections", "action": "See connections and health",
            ])
        }
        let keyAge = try await keyRotation.keyAge(now: clock.now)
        if keyAge.overdue {
            attention.append([
                "kind": "key-rotation-overdue",
                "text":
                    "The data key is \(Int(keyAge.ageSeconds / 86_400)) days old, past its \(keyRotation.configuration.rotationDays)-day rotation: scheduled "
                    + "rotation is failing (see the server log) or no server has run it. Rotate now with `latchkey keys rotate`.",
                "href": "/admin/audit", "action": "Open the audit log",
            ])
        }
        if counts.deadDeliveries > 0 {
            let events = counts.deadDeliveries == 1 ? "1 webhook event was" : "\(counts.deadDeliveries) webhook events were"
            attention.append([
                "kind": "dead-deliveries",
                "text": "\(events) given up after a day of failed attempts; fix the receiver, then replay them.",
                "href": "/admin/webhooks", "action": "Open Webhooks",
            ])
        }
        let tiles: [[String: Any]] = [
            ["label": "Users", "count": counts.users, "href": "/admin/users", "link": "Manage users"],
            ["label": "Integrations", "count": counts.integrations, "href": "/admin/integrations", "link": "Manage integrations"],
            ["label": "Connections", "count": counts.connections, "href": "/admin/connections", "link": "Connections and health"],
            ["label": "Connected accounts", "count": counts.credentials, "href": "/admin/connections", "link": "Health by service"],
            ["label": "Apps", "count": counts.apps, "href": "/admin/apps", "link": "Manage apps"],
            ["label": "Calls in the last 24 hours", "count": counts.requests],
        ]
        return HTMLPage.render(
            "admin-overview",
            title: "Overview",
            context: [
                "tiles": tiles, "attention": attention, "flash": PageFlash.message(request) as Any,
                "reauthBanner": ReauthBanner.context(try await credentials(context.user), name: { names[$0] ?? $0 }, csrf: nil) as Any,
            ],
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }
}
