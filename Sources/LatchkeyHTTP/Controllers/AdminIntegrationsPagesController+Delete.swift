import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `GET|POST /admin/integrations/{key}/delete`: removing an integration after a confirmation page, refused while
/// accounts are still connected to it — the same service call as `DELETE /api/v1/integrations/{key}`, so the same
/// refusal and the same `integration.delete` audit event.
extension AdminIntegrationsPagesController {
    @Sendable func confirmDelete(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await deletePage(context, try await find(context))
    }

    @Sendable func delete(_ request: Request, context: AdminPageContext) async throws -> Response {
        let integration = try await find(context)
        do {
            try await store.delete(key: integration.key, tenantID: context.tenantID, actor: actor(request, context))
        } catch let error as LatchkeyError where error.code == .conflict {
            return try await deletePage(context, integration, status: .conflict)
        }
        let name = integration.displayName ?? catalog.provider(id: integration.provider)?.displayName ?? integration.key
        return WebResponse.redirect(to: "/admin/integrations", flash: "The integration \(name) (\(integration.key)) was deleted.")
    }

    private func deletePage(_ context: AdminPageContext, _ integration: Integration, status: HTTPResponse.Status = .ok) async throws -> Response {
        let connected = try await store.integrations.connectedCounts(integrationID: integration.id, tenantID: context.tenantID)
        let name = integration.displayName ?? catalog.provider(id: integration.provider)?.displayName ?? integration.key
        return HTMLPage.render(
            "admin-integration-delete",
            title: "Delete \(name)",
            context: [
                "key": integration.key, "name": name, "csrf": sessions.csrfToken(for: context.sessionToken),
                "accounts": connected.accounts == 1 ? "1 account is" : "\(connected.accounts) accounts are",
                "blocked": connected.accounts > 0, "refused": status == .conflict,
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions)
        )
    }
}
