import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `GET|POST /admin/integrations/{key}`: one integration — its OAuth client (the secret never shown, only whether
/// one is stored, with a field to replace it), scopes, settings, name and status, and how it is used. Saving makes
/// the same service calls as `PATCH /api/v1/integrations/{key}` with only the fields that changed, so the checks and
/// the `integration.update` audit event are the API's.
extension AdminIntegrationsPagesController {
    @Sendable func edit(_ request: Request, context: AdminPageContext) async throws -> Response {
        let integration = try await find(context)
        return try await editPage(context, integration, form: IntegrationPageForm(integration), flash: PageFlash.message(request))
    }

    @Sendable func update(_ request: Request, context: AdminPageContext) async throws -> Response {
        let integration = try await find(context)
        let provider = catalog.provider(id: integration.provider)
        let settingNames = (provider?.integrationSettings ?? [:]).keys.sorted()
        let form = IntegrationPageForm(try await WebForm.read(request), settingNames: settingNames)
        let changes = Self.changes(from: form, to: integration, provider: provider, settingNames: settingNames)
        let path = "/admin/integrations/\(integration.key)"
        guard let changes else { return WebResponse.redirect(to: path, flash: "Nothing changed.") }
        do {
            let checked = try await rules.validated(changes, for: integration)
            let updated = try await store.update(key: integration.key, tenantID: context.tenantID, changes: checked, actor: actor(request, context))
            let name = updated.displayName ?? provider?.displayName ?? updated.key
            return WebResponse.redirect(to: path, flash: "Saved the changes to \(name)\(updated.enabled ? "" : ", which is disabled").")
        } catch let error as LatchkeyError where error.code == .invalidRequest || error.code == .conflict {
            var problems = IntegrationPageProblems.problems(error, provider: provider, scopes: form.scopeList)
            if !form.clientSecret.isEmpty, problems["clientSecret"] == nil {
                problems["clientSecret"] = "Enter the new client secret again: it is not kept when the form has a problem."
            }
            return try await editPage(context, integration, form: form, problems: problems, status: .badRequest)
        }
    }

    /// Only what differs from the stored integration, as `PATCH` would carry it; nil when nothing does. An empty
    /// secret field keeps the stored secret.
    static func changes(
        from form: IntegrationPageForm,
        to integration: Integration,
        provider: Provider?,
        settingNames: [String]
    ) -> IntegrationStore.Changes? {
        var changes = IntegrationStore.Changes()
        var changed = false
        if form.displayName != (integration.displayName ?? "") {
            changes.displayName = .some(form.displayName.isEmpty ? nil : form.displayName)
            changed = true
        }
        if provider?.authMode == .oauth2 || provider?.authMode == .oauth2ClientCredentials {
            if form.clientID != (integration.clientID ?? "") {
                changes.clientID = .some(form.clientID.isEmpty ? nil : form.clientID)
                changed = true
            }
            if !form.clientSecret.isEmpty {
                changes.clientSecret = .some(form.clientSecret)
                changed = true
            }
            if form.scopeList != integration.scopes {
                changes.scopes = form.scopeList
                changed = true
            }
        }
        // Settings the form shows; endpoints read from a discovery document are not among them and are read again.
        let typed = form.settings.filter { !$0.value.isEmpty }
        let stored = integration.settings.filter { settingNames.contains($0.key) && !$0.value.isEmpty }
        if typed != stored {
            changes.settings = typed
            changed = true
        }
        if form.enabled != integration.enabled {
            changes.enabled = form.enabled
            changed = true
        }
        return changed ? changes : nil
    }

    private func editPage(
        _ context: AdminPageContext,
        _ integration: Integration,
        form: IntegrationPageForm,
        flash: String? = nil,
        problems: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let provider = catalog.provider(id: integration.provider)
        let isOAuth = provider?.authMode == .oauth2 || provider?.authMode == .oauth2ClientCredentials
        let name = integration.displayName ?? provider?.displayName ?? integration.key
        var fields: [[String: Any]] = [
            IntegrationPageForm.field(
                "displayName",
                label: "Name shown to people",
                hint: "optional; defaults to \(provider?.displayName ?? integration.provider)",
                value: form.displayName,
                problems: problems
            )
        ]
        if let provider, isOAuth {
            var oauth = oauthFields(provider, form: form, problems: problems, secretHint: "leave empty to keep the stored one")
            if let secret = oauth.firstIndex(where: { $0["id"] as? String == "clientSecret" }) {
                oauth[secret]["label"] = integration.hasClientSecret ? "Replace the client secret" : "Client secret"
                if !integration.hasClientSecret { oauth[secret]["hint"] = "none is stored" }
            }
            fields += oauth
        }
        if let provider { fields += settingFields(provider, form: form, problems: problems) }
        let usage = try await usage(of: integration, tenantID: context.tenantID)
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        return HTMLPage.render(
            "admin-integration-edit",
            title: name,
            context: [
                "key": integration.key, "name": name, "service": provider?.displayName ?? integration.provider,
                "at": IntegrationPageForm.registrar(provider),
                "enabled": integration.enabled, "formEnabled": form.enabled, "misconfigured": integration.status == .misconfigured,
                "statusReason": integration.statusReason as Any, "isOAuth": isOAuth, "hasSecret": integration.hasClientSecret,
                "redirect": provider?.authMode == .oauth2, "callbackURL": callbackURL, "docsURL": provider?.docsURL as Any,
                "usage": usage, "flash": flash as Any, "csrf": sessions.csrfToken(for: context.sessionToken),
                "fields": IntegrationPageForm.focusingFirst(fields, problems: problems, orFirst: false),
                "knownScopes": provider.map(knownScopes) ?? [], "hasKnownScopes": !(provider.map(knownScopes) ?? []).isEmpty,
                "hasProblems": !problems.isEmpty, "problemsHeading": "Nothing was saved. Correct what is marked below:",
                "problems": IntegrationPageForm.summary(problems, order: fields.compactMap { $0["id"] as? String }),
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            policy: policy
        )
    }

    /// How the integration is used: the people with an account connected, and the calls of the last 24 hours with
    /// their success rate, from the request log that every instance writes to.
    private func usage(of integration: Integration, tenantID: String) async throws -> [String: Any] {
        let connected = try await store.integrations.connectedCounts(integrationID: integration.id, tenantID: tenantID)
        let calls = try await requestLog.outcomes(tenantID: tenantID, integrationKey: integration.key, since: clock.now.addingTimeInterval(-86_400))
        var usage: [String: Any] = [
            "people": connected.people == 1 ? "1 person" : "\(connected.people) people",
            "accounts": connected.accounts == 1 ? "1 account" : "\(connected.accounts) accounts",
            "calls": calls.calls == 1 ? "1 call" : "\(calls.calls) calls",
            "hasCalls": calls.calls > 0,
        ]
        if calls.calls > 0 {
            // To a tenth of a percent, without ".0"; never rounded up to 100% while a call failed.
            var rate = (Double(calls.succeeded) / Double(calls.calls) * 1000).rounded() / 10
            if rate == 100, calls.succeeded < calls.calls { rate = 99.9 }
            usage["rate"] = rate == rate.rounded() ? String(format: "%.0f%%", rate) : String(format: "%.1f%%", rate)
            usage["failing"] = calls.succeeded * 10 < calls.calls * 9
        }
        return usage
    }
}
