import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// Adding an integration: the service is chosen first (`GET /admin/integrations/new?provider=github`, a plain link or
/// form, no script), then a form with only the fields that service needs and how to register the OAuth app there.
extension AdminIntegrationsPagesController {
    @Sendable func newForm(_ request: Request, context: AdminPageContext) async throws -> Response {
        let id = request.uri.queryParameters.get("provider").map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        guard let provider = catalog.provider(id: id) else { return try await chooserPage(context, unknown: !id.isEmpty) }
        var form = IntegrationPageForm()
        form.provider = provider.id
        return formPage(context, provider: provider, form: form, problems: [:])
    }

    /// The services of the catalog, grouped by how people connect them.
    func providerGroups(selected: String? = nil) -> [[String: Any]] {
        let groups: [(String, (Provider) -> Bool)] = [
            ("Sign in with OAuth", { $0.authMode == .oauth2 && $0.oauth?.configurableEndpoints != true }),
            ("An API key or password per person", { $0.authMode == .apiKey || $0.authMode == .basic }),
            ("Server to server (OAuth client credentials)", { $0.authMode == .oauth2ClientCredentials }),
            ("Any other OAuth 2.0 or OpenID Connect service", { $0.oauth?.configurableEndpoints == true }),
        ]
        let all = catalog.all.sorted { $0.displayName.localizedCaseInsensitiveCompare($1.displayName) == .orderedAscending }
        return groups.compactMap { label, matches in
            let providers = all.filter(matches).map { ["id": $0.id, "name": $0.displayName, "selected": $0.id == selected] as [String: Any] }
            return providers.isEmpty ? nil : ["label": label, "providers": providers]
        }
    }

    /// The service chooser on a page of its own: what `/admin/integrations/new` shows without a known service.
    func chooserPage(_ context: AdminPageContext, unknown: Bool) async throws -> Response {
        HTMLPage.render(
            "admin-integration-choose",
            title: "Add an integration",
            context: [
                "groups": providerGroups(), "autofocus": true,
                "error": (unknown ? "There is no such service in the catalog. Choose one from the list." : nil) as String? as Any,
            ],
            status: unknown ? .badRequest : .ok,
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    /// The form for one service: its problems beside each field when there are any.
    func formPage(
        _ context: AdminPageContext,
        provider: Provider,
        form: IntegrationPageForm,
        problems: [String: String],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let isOAuth = provider.authMode == .oauth2 || provider.authMode == .oauth2ClientCredentials
        var fields: [[String: Any]] = [
            IntegrationPageForm.field(
                "key",
                label: "Key",
                hint: "optional; how apps and the API name it, defaults to \(provider.id)",
                value: form.key,
                problems: problems
            ),
            IntegrationPageForm.field(
                "displayName",
                label: "Name shown to people",
                hint: "optional; defaults to \(provider.displayName)",
                value: form.displayName,
                problems: problems
            ),
        ]
        if isOAuth {
            fields += oauthFields(
                provider,
                form: form,
                problems: problems,
                secretHint: "shown by \(IntegrationPageForm.registrar(provider)); stored encrypted"
            )
        }
        fields += settingFields(provider, form: form, problems: problems)
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        return HTMLPage.render(
            "admin-integration-new",
            title: "Add \(provider.displayName)",
            context: [
                "provider": provider.id, "name": provider.displayName, "at": IntegrationPageForm.registrar(provider),
                "generic": provider.oauth?.configurableEndpoints == true, "docsURL": provider.docsURL, "notes": Self.howPeopleConnect(provider),
                "isOAuth": isOAuth, "redirect": provider.authMode == .oauth2,
                "keyLabel": provider.apiKey?.keyLabel ?? (provider.authMode == .basic ? "user name and password" : "API key"),
                "callbackURL": callbackURL, "csrf": sessions.csrfToken(for: context.sessionToken),
                "fields": IntegrationPageForm.focusingFirst(fields, problems: problems), "knownScopes": knownScopes(provider),
                "hasKnownScopes": !knownScopes(provider).isEmpty,
                "hasProblems": !problems.isEmpty, "problemsHeading": "\(provider.displayName) was not added. Correct what is marked below:",
                "problems": IntegrationPageForm.summary(problems, order: fields.compactMap { $0["id"] as? String }),
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            policy: policy
        )
    }

    /// Client ID, a client secret and scopes: the fields of an OAuth service.
    func oauthFields(_ provider: Provider, form: IntegrationPageForm, problems: [String: String], secretHint: String) -> [[String: Any]] {
        let defaults = provider.oauth?.defaultScopes ?? []
        return [
            IntegrationPageForm.field(
                "clientId",
                label: "Client ID",
                hint: "from the OAuth app you registered at \(IntegrationPageForm.registrar(provider))",
                value: form.clientID,
                required: true,
                problems: problems
            ),
            IntegrationPageForm.field("clientSecret", label: "Client secret", hint: secretHint, type: "password", problems: problems),
            IntegrationPageForm.field(
                "scopes",
                label: "Scopes",
                hint: defaults.isEmpty
                    ? "separated by spaces; optional"
                    : "separated by spaces; empty for the defaults: \(defaults.joined(separator: " "))",
                value: form.scopes,
                problems: problems
            ),
        ]
    }

    /// One field per setting of the service (the endpoints of a generic OAuth 2.0 service, the discovery URL of an
    /// OpenID Connect one): required ones first, endpoints in the order a sign-in uses them.
    func settingFields(_ provider: Provider, form: IntegrationPageForm, problems: [String: String]) -> [[String: Any]] {
        let order = ["discoveryURL", "authorizationURL", "tokenURL", "revocationURL", "userInfoURL", "apiBaseURL"]
        let settings = (provider.integrationSettings ?? [:]).sorted { a, b in
            if a.value.required != b.value.required { return a.value.required }
            return (order.firstIndex(of: a.key) ?? order.count, a.key) < (order.firstIndex(of: b.key) ?? order.count, b.key)
        }
        return settings.map { name, spec in
            IntegrationPageForm.settingField(name, spec, value: form.settings[name] ?? "", problems: problems)
        }
    }

    /// The scopes the catalog lists for the service, with what each allows; empty when any scope is accepted.
    func knownScopes(_ provider: Provider) -> [[String: String]] {
        (provider.oauth?.scopes ?? [:]).sorted { $0.key < $1.key }.map { ["name": $0.key, "description": $0.value] }
    }

    /// What the integration lets people do, in words for an administrator (the catalog's `notes` are for developers of
    /// the catalog, and stay off the page).
    static func howPeopleConnect(_ provider: Provider) -> String {
        switch provider.authMode {
        case .oauth2: "People sign in at \(provider.displayName) and choose what to allow; their tokens stay in this vault."
        case .apiKey: "People connect with their own \(provider.displayName) \(provider.apiKey?.keyLabel ?? "API key"); it stays in this vault."
        case .basic: "People connect with their \(provider.displayName) account details; they stay in this vault."
        case .oauth2ClientCredentials: "This tenant connects to \(provider.displayName) with the OAuth client below; no person signs in."
        }
    }
}
