import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `/admin/integrations`: the services people in the tenant can connect — the list, adding one (the same service
/// calls as `POST /api/v1/integrations`, so the same checks and audit events), and each one's page, where it is
/// changed (as `PATCH /api/v1/integrations/{key}`) and its use is shown.
struct AdminIntegrationsPagesController {
    let store: IntegrationStore
    let rules: IntegrationRules
    let catalog: ProviderCatalog
    let sessions: WebSessions
    let callbackURL: String
    /// The shared request log: what answers "its calls of the last 24 hours" for every instance at once.
    let requestLog: RequestLogRepository
    let clock: any LatchkeyClock

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/integrations", use: list)
        group.get("admin/integrations/new", use: newForm)
        group.post("admin/integrations", use: create)
        group.get("admin/integrations/:key", use: edit)
        group.post("admin/integrations/:key", use: update)
        group.post("admin/integrations/:key/toggle", use: toggle)
        group.get("admin/integrations/:key/delete", use: confirmDelete)
        group.post("admin/integrations/:key/delete", use: delete)
    }

    @Sendable func list(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await listPage(context, flash: PageFlash.message(request))
    }

    @Sendable func create(_ request: Request, context: AdminPageContext) async throws -> Response {
        let webForm = try await WebForm.read(request)
        let provider = catalog.provider(id: webForm.trimmed("provider"))
        let form = IntegrationPageForm(webForm, settingNames: (provider?.integrationSettings ?? [:]).keys.sorted())
        let new = IntegrationStore.NewIntegration(
            key: form.key.isEmpty ? form.provider : form.key,
            provider: form.provider,
            displayName: form.displayName.isEmpty ? nil : form.displayName,
            clientID: form.clientID.isEmpty ? nil : form.clientID,
            clientSecret: form.clientSecret.isEmpty ? nil : form.clientSecret,
            scopes: form.scopeList,
            settings: form.settings.filter { !$0.value.isEmpty }
        )
        do {
            let integration = try await store.create(try await rules.validated(new), tenantID: context.tenantID, actor: actor(request, context))
            return WebResponse.redirect(to: "/admin/integrations", flash: "Integration \(integration.key) added.")
        } catch let error as LatchkeyError where error.code == .invalidRequest || error.code == .conflict {
            var problems = IntegrationPageProblems.problems(error, provider: provider, scopes: form.scopeList)
            if !form.clientSecret.isEmpty, problems["clientSecret"] == nil {
                problems["clientSecret"] = "Enter the client secret again: it is not kept when the form has a problem."
            }
            guard let provider else { return try await chooserPage(context, unknown: true) }
            return formPage(context, provider: provider, form: form, problems: problems, status: .badRequest)
        }
    }

    @Sendable func toggle(_ request: Request, context: AdminPageContext) async throws -> Response {
        let integration = try await find(context)
        _ = try await store.update(
            key: integration.key,
            tenantID: context.tenantID,
            changes: .init(enabled: !integration.enabled),
            actor: actor(request, context)
        )
        return WebResponse.redirect(to: "/admin/integrations", flash: "Integration \(integration.key) updated.")
    }

    /// The tenant's integration named in the path; not found otherwise.
    func find(_ context: AdminPageContext) async throws -> Integration {
        let key = context.parameters.get("key") ?? ""
        guard IntegrationRules.isIntegrationKey(key) || IntegrationRules.isStoredKey(key),
            let integration = try await store.integrations.find(key: key, tenantID: context.tenantID)
        else { throw LatchkeyError.notFound("integration") }
        return integration
    }

    func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }

    private func listPage(_ context: AdminPageContext, flash: String? = nil) async throws -> Response {
        let csrf = sessions.csrfToken(for: context.sessionToken)
        let integrations = try await store.integrations.list(tenantID: context.tenantID)
        let rows: [[String: Any]] = integrations.map { integration in
            let provider = catalog.provider(id: integration.provider)
            return [
                "key": integration.key,
                "name": integration.displayName ?? provider?.displayName ?? integration.provider,
                "service": provider?.displayName ?? integration.provider,
                "clientID": integration.clientID ?? "—",
                "hasSecret": integration.hasClientSecret,
                "scopes": (integration.scopes.isEmpty ? provider?.oauth?.defaultScopes ?? [] : integration.scopes).joined(separator: " "),
                "enabled": integration.enabled,
                "misconfigured": integration.status == .misconfigured,
                "csrf": csrf,
            ]
        }
        return HTMLPage.render(
            "admin-integrations",
            title: "Integrations",
            context: [
                "integrations": rows, "csrf": csrf, "flash": flash as Any, "groups": providerGroups(),
                "alerts": misconfiguredAlerts(integrations),
            ],
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    /// A banner for every integration whose OAuth client the provider refused: nothing refreshes until it is fixed.
    private func misconfiguredAlerts(_ integrations: [Integration]) -> [[String: String]] {
        integrations.filter { $0.status == .misconfigured }.map { integration in
            let name = integration.displayName ?? catalog.provider(id: integration.provider)?.displayName ?? integration.key
            return ["key": integration.key, "name": name]
        }
    }
}
