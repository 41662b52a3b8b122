import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// The Connection Center page itself: the person's connected accounts, and the services they can connect.
extension ConnectionCenterController {
    @Sendable func center(_ request: Request, context: SignedInContext) async throws -> Response {
        try await page(request, context: context, flash: PageFlash.message(request))
    }

    /// The page; with `labelError` it is shown again (status 400) with the label that could not be stored.
    func page(
        _ request: Request,
        context: SignedInContext,
        flash: String?,
        labelError: LabelError? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let user = context.user
        let csrf = sessions.csrfToken(for: context.sessionToken)
        let mine = try await connect.credentials(of: user, integrationKey: nil)
        let enabled = try await connect.integrations.integrations.list(tenantID: user.tenantID).filter(\.enabled)
        var names: [String: String] = [:]
        var services: [[String: Any]] = []
        var offered: [ConnectService.Service] = []
        for integration in enabled {
            guard let provider = connect.catalog.provider(id: integration.provider), provider.authMode != .oauth2ClientCredentials else { continue }
            let service = ConnectService.Service(integration: integration, provider: provider)
            offered.append(service)
            names[integration.key] = service.name
            let permissions = Self.permissions(
                provider: provider,
                scopes: integration.scopes.isEmpty ? provider.oauth?.defaultScopes ?? [] : integration.scopes
            )
            services.append([
                "key": integration.key,
                "name": service.name,
                "initial": String(service.name.prefix(1)).uppercased(),
                "summary": Self.summary(service),
                // The catalog's documentation page of the provider (https, checked when the catalog loads).
                "docs": provider.docsURL.isEmpty ? NSNull() : provider.docsURL as Any,
                "permissions": permissions,
                "hasPermissions": !permissions.isEmpty,
                "csrf": csrf,
            ])
        }
        // The default account of a service is a choice only when the person has several accounts of it.
        let accounts = Dictionary(grouping: mine, by: \.integrationKey).mapValues(\.count)
        let connections: [[String: Any]] = mine.map { credential in
            let name = names[credential.integrationKey] ?? credential.integrationKey
            let provider = enabled.first { $0.key == credential.integrationKey }.flatMap { connect.catalog.provider(id: $0.provider) }
            let permissions = provider.map { Self.permissions(provider: $0, scopes: credential.scopes) } ?? credential.scopes
            let (statusText, problem) = Self.status(credential, serviceName: name)
            let tools = ConnectionToolsController.tryable(provider).map { ["name": $0.name, "title": $0.title] }
            // `?reconnect={id}&scopes=…` (the link of an insufficient_scope answer): offer to reconnect asking for them.
            let typed = labelError?.credentialID == credential.id ? labelError : nil
            // The label a connect sets is the account or the service again: shown only when it says something more.
            let label = credential.label.flatMap { $0 == credential.providerAccount || $0 == name ? nil : $0 }
            var wanted: [String] = []
            if request.uri.queryParameters.get("reconnect")?.lowercased() == credential.id, let text = request.uri.queryParameters.get("scopes") {
                wanted = Self.scopeList(text).filter { scope in provider?.oauth?.scopes[scope] != nil && !credential.scopes.contains(scope) }
            }
            return [
                "id": credential.id,
                "integration": credential.integrationKey,
                "service": name,
                "initial": String(name.prefix(1)).uppercased(),
                "account": credential.providerAccount ?? "Unknown account",
                "label": label as Any,
                "labelValue": typed?.value ?? label ?? "",
                "labelError": typed?.message as Any,
                "isDefault": credential.isDefault,
                "choosesDefault": (accounts[credential.integrationKey] ?? 0) > 1,
                "connected": PageDates.minute(credential.connectedAt),
                "connectedISO": CompactJSONObject.iso8601(credential.connectedAt),
                "lastUsed": credential.lastUsedAt.map(PageDates.minute) as Any,
                "lastUsedISO": credential.lastUsedAt.map(CompactJSONObject.iso8601) as Any,
                "statusText": statusText,
                "problem": problem,
                "permissions": permissions,
                "hasPermissions": !permissions.isEmpty,
                "tools": tools,
                "hasTools": !tools.isEmpty,
                "wantedScopes": wanted.joined(separator: " "),
                "wanted": provider.map { Self.permissions(provider: $0, scopes: wanted) } ?? wanted,
                "hasWanted": !wanted.isEmpty,
                "csrf": csrf,
            ]
        }
        // *Connect first* on a consent page: go back there once a service is connected.
        let returning = ConnectReturn.target(request.uri.queryParameters.get("return"))
        var response = HTMLPage.render(
            "connections",
            title: "Your connections",
            context: [
                "services": services, "connections": connections, "flash": flash as Any,
                "reauthBanner": ReauthBanner.context(mine, name: { names[$0] ?? $0 }, csrf: csrf) as Any,
                "error": labelError.map { "The label was not saved. \($0.message)" } as Any,
                "errorField": labelError.map { "label-\($0.credentialID)" } as Any,
                "returning": returning.map { _ in "Connect a service below; you will then be taken back to the application's authorization." } as Any,
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true,
            // Connect and Reconnect answer with a redirect to the provider; a Reconnect is only possible for an
            // enabled integration, so the offered services cover both.
            policy: ContentSecurityPolicy(formActions: connect.formActionSources(for: offered))
        )
        if let returning { response.setCookie(ConnectReturn.set(returning, secure: secureCookies)) }
        return response
    }
}
