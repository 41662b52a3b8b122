import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyProviders
import LatchkeyStorage

/// `/admin/connections/{id}`: one Connection's health with its reference-data sync per dataset, and *Sync now*.
extension AdminPagesController {
    func addConnectionRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/connections/:id", use: connection)
        group.post("admin/connections/:id/sync-now", use: syncNow)
    }

    private func target(_ context: AdminPageContext) async throws -> Connection {
        let id = try PathID.parse(context, what: "connection")
        guard let connection = try await tenants.directory.connection(id: id, tenantID: context.tenantID) else {
            throw LatchkeyError.notFound("connection")
        }
        return connection
    }

    @Sendable func connection(_ request: Request, context: AdminPageContext) async throws -> Response {
        let connection = try await target(context)
        let state = try await health.health(of: connection)
        let integration = try await store.integrations.find(id: connection.integrationID, tenantID: context.tenantID)
        let provider = integration.flatMap { catalog.provider(id: $0.provider) }
        let name = integration?.displayName ?? provider?.displayName ?? connection.integrationKey
        let app = try await apps.find(id: connection.appID, tenantID: context.tenantID)
        let datasets = try await ConnectionSyncController.summary(connectionID: connection.id, provider: provider, store: sync)
        let fraction = try await sync.budgetFraction(connectionID: connection.id) ?? SyncBudget.defaultFraction
        let rows: [[String: Any]] = datasets.map { item in
            [
                "dataset": item.dataset, "title": item.title, "enabled": item.enabled, "every": Self.every(item.intervalSeconds),
                "ok": item.health.ok, "failed": item.health.failed, "paused": item.health.paused, "pending": item.health.pending,
                "failing": item.health.failed + item.health.paused > 0, "records": item.health.records,
                "lastSuccess": item.health.lastSuccessAt.map(PageDates.minute) ?? "never",
                "nextRun": item.health.nextRunAt.map(PageDates.minute) ?? "—", "lastError": item.health.lastError ?? "",
            ]
        }
        let values: [String: Any] = [
            "id": connection.id, "name": name, "health": state.state.rawValue, "problem": state.state != .healthy,
            "reasons": state.reasons.map(Self.plainReason).joined(separator: "; "), "active": state.counts.active,
            "needsReauth": state.counts.needsReauth, "expired": state.counts.expired, "appID": connection.appID,
            "appName": app?.name ?? connection.appID, "budgetPercent": Int((fraction * 100).rounded()),
            "datasets": rows, "hasDatasets": !rows.isEmpty, "csrf": sessions.csrfToken(for: context.sessionToken),
            "flash": PageFlash.message(request) as Any,
        ]
        return HTMLPage.render("admin-connection", title: name, context: values, chrome: PageChrome(context, sessions: sessions), wide: true)
    }

    /// Makes the Connection's jobs due now (the sync service runs them at its next pass, paced as always); audited.
    @Sendable func syncNow(_ request: Request, context: AdminPageContext) async throws -> Response {
        let connection = try await target(context)
        let enabled = try await sync.settings(connectionID: connection.id).filter(\.enabled).map(\.dataset).sorted()
        let due = try await sync.runNow(connectionID: connection.id, tenantID: context.tenantID, datasets: enabled, credentialID: nil, now: clock.now)
        _ = try await audit.append(
            AuditRecord(
                actor: AuditActor(
                    id: "user:\(context.user.id)",
                    ip: context.remoteAddress,
                    userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
                ),
                action: "connection.sync_run",
                target: connection.id,
                service: connection.integrationKey,
                details: ["datasets": enabled.joined(separator: ","), "due": "\(due)"]
            ),
            tenantID: context.tenantID
        )
        let flash = due == 1 ? "1 sync job runs at the next pass." : "\(due) sync jobs run at the next pass."
        return WebResponse.redirect(to: "/admin/connections/\(connection.id)", flash: flash)
    }

    /// An interval in words: "day", "6 hours", "90 minutes".
    static func every(_ seconds: Int) -> String {
        if seconds % 86_400 == 0 { return seconds == 86_400 ? "day" : "\(seconds / 86_400) days" }
        if seconds % 3_600 == 0 { return seconds == 3_600 ? "hour" : "\(seconds / 3_600) hours" }
        return "\(seconds / 60) minutes"
    }
}
