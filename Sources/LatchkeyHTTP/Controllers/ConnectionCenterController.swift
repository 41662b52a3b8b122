import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// The Connection Center (`/connections`) and the one provider callback (`/connect/callback`).
struct ConnectionCenterController {
    let connect: ConnectService
    let sessions: WebSessions
    /// Apps' connect sessions share the one callback (``HostedConnectController/callback(_:browserID:query:)``).
    var appSessions: AppConnectSessions? = nil
    /// Whether cookies are marked `Secure` (the public URL is https).
    var secureCookies = false

    /// Routes that need a signed-in user.
    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.get("connections", use: center)
        group.get("connections/:id/connect", use: connectForm)
        group.post("connections/:id/connect", use: start)
        group.get("connections/:id/disconnect", use: confirmDisconnect)
        group.post("connections/:id/disconnect", use: disconnect)
        group.post("connections/:id/reconnect", use: reconnect)
        group.post("connections/:id/label", use: setLabel)
        group.post("connections/:id/default", use: makeDefault)
    }

    /// The callback may arrive without a signed-in session (it then says so); it checks the browser binding itself.
    func addCallback(to router: RouterGroup<AppRequestContext>) {
        router.get("connect/callback", use: callback)
    }

    @Sendable func connectForm(_ request: Request, context: SignedInContext) async throws -> Response {
        let key = context.parameters.get("id") ?? ""
        let service = try await connect.service(key: key, tenantID: context.tenantID)
        let spec = ConnectForm(service: service, reconnect: nil)
        guard !spec.fields.isEmpty else { return WebResponse.redirect(to: "/connections") }
        return await formPage(spec, context: context, form: nil, error: nil)
    }

    @Sendable func start(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let key = context.parameters.get("id") ?? ""
        let reconnect = form["reconnect"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
        return try await run(key: key, form: form, reconnect: reconnect, context: context, request: request)
    }

    @Sendable func reconnect(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = (context.parameters.get("id") ?? "").lowercased()
        let endUser = try await connect.endUser(for: context.user)
        let credential = try await connect.ownCredential(id, endUser: endUser, user: context.user)
        // A tool that needs more permissions sends the person here with the scopes to ask for as well.
        let extra = (try await WebForm.read(request))["scopes"].map(Self.scopeList) ?? []
        return try await run(
            key: credential.integrationKey,
            form: nil,
            reconnect: credential.id,
            context: context,
            request: request,
            extraScopes: extra
        )
    }

    /// `a b,c` → its scopes.
    static func scopeList(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init).prefix(20).map { $0 }
    }

    private func run(
        key: String,
        form: WebForm?,
        reconnect: String?,
        context: SignedInContext,
        request: Request,
        extraScopes: [String] = []
    ) async throws -> Response {
        do {
            let values = form.map { ConnectFormValues($0.fields) }
            switch try await connect.start(
                user: context.user,
                key: key,
                browserID: context.browserID,
                form: values,
                reconnect: reconnect,
                extraScopes: extraScopes
            ) {
            case .redirect(let url, let service):
                if let formAction = connect.formActionSource(for: service), formAction.allows(url) {
                    return WebResponse.redirect(to: url.absoluteString)
                }
                return continuePage(url, context: context)
            case .form(let spec):
                return await formPage(spec, context: context, form: nil, error: nil)
            case .stored(let credential, let updated):
                if let back = ConnectReturn.redirect(request, secure: secureCookies) { return back }
                return WebResponse.redirect(to: "/connections", flash: await connectedMessage(credential, updated: updated))
            }
        } catch let error as ConnectFormError {
            return await formPage(error.spec, context: context, form: form, error: error.message, status: .badRequest)
        } catch let failure as ConnectFailure {
            return await failurePage(failure, chrome: PageChrome(context, sessions: sessions), tenantID: context.tenantID)
        }
    }

    /// "GitHub connected as octocat." — the one-time message after a connect or a reconnect.
    private func connectedMessage(_ credential: Credential, updated: Bool) async -> String {
        let name = await serviceName(credential.integrationKey, tenantID: credential.tenantID)
        let account = credential.providerAccount ?? credential.label
        if updated { return account.map { "\(name) reconnected as \($0)." } ?? "\(name) reconnected." }
        return "\(name) connected as \(account ?? "your account")."
    }

    /// The name people know an integration by: its display name, else its provider's; its key when neither is known.
    func serviceName(_ key: String, tenantID: String) async -> String {
        guard let integration = try? await connect.integrations.integrations.find(key: key, tenantID: tenantID),
            let provider = connect.catalog.provider(id: integration.provider)
        else { return key }
        return ConnectService.Service(integration: integration, provider: provider).name
    }

    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
        let chrome: PageChrome? =
            if let token = context.sessionToken, let session = context.webSession {
                PageChrome(user: session.user, sessionToken: token, sessions: sessions)
            } else { nil }
        if let appSessions,
            let response = try await HostedConnectController(sessions: appSessions, connect: connect)
                .callback(query: query, browserID: context.browserID)
        {
            return response
        }
        do {
            let completed = try await connect.complete(query: query, browserID: context.browserID, signedInUser: context.webSession?.user)
            if let shared = completed.sharedConnection {
                return WebResponse.redirect(to: "/admin/apps/\(shared.appID)", flash: "Shared credential connected.")
            }
            if let back = ConnectReturn.redirect(request, secure: secureCookies) { return back }
            return WebResponse.redirect(to: "/connections", flash: await connectedMessage(completed.credential, updated: completed.updated))
        } catch let failure as ConnectFailure {
            return await failurePage(failure, chrome: chrome, tenantID: context.webSession?.user.tenantID)
        }
    }

    /// The values to type before connecting; for a provider whose address depends on them (a Shopify shop) the form
    /// is redirected there once filled in.
    private func formPage(
        _ spec: ConnectForm,
        context: SignedInContext,
        form: WebForm?,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        HTMLPage.render(
            "connect-form",
            title: "Connect \(spec.serviceName)",
            context: spec.context(csrf: sessions.csrfToken(for: context.sessionToken), form: form, error: error),
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            policy: ContentSecurityPolicy(formActions: await connect.formActionSources(key: spec.key, tenantID: context.tenantID))
        )
    }

    /// On to a provider whose origin the page that sent the form could not list in its policy: a page of our own
    /// that goes there at once (meta refresh) and offers a link, both navigations that `form-action` does not govern.
    /// The URL is the provider's authorize redirect (state and PKCE challenge, never a secret); the page is
    /// `no-store` and sends no referrer, like the 303 it stands in for.
    private func continuePage(_ url: URL, context: SignedInContext) -> Response {
        HTMLPage.render(
            "connect-continue",
            title: "Continue to sign in",
            context: ["url": url.absoluteString],
            chrome: PageChrome(context, sessions: sessions),
            refresh: url
        )
    }

    /// Why a connect did not finish; its *Try again* form is redirected to the provider, as *Connect* is.
    private func failurePage(_ failure: ConnectFailure, chrome: PageChrome?, tenantID: String?) async -> Response {
        let retryKey = chrome != nil ? failure.retryKey : nil
        var sources: [FormActionSource] = []
        if let tenantID { sources = await connect.formActionSources(key: retryKey, tenantID: tenantID) }
        return HTMLPage.render(
            "connect-failed",
            title: failure.heading,
            context: [
                "heading": failure.heading,
                "message": failure.message,
                "retryKey": retryKey as Any,
                "reconnect": failure.reconnect as Any,
                "csrf": chrome?.csrf ?? "",
            ],
            status: failure.responseStatus,
            chrome: chrome,
            policy: ContentSecurityPolicy(formActions: sources)
        )
    }

    /// Each scope in plain words, from the catalog; unknown scopes are shown by name.
    static func permissions(provider: Provider, scopes: [String]) -> [String] {
        scopes.map { provider.oauth?.scopes[$0] ?? $0 }
    }

    /// What connecting a service involves, naming it as the tile does (an integration's display name, e.g. "Corp SSO",
    /// rather than "Generic OpenID Connect").
    static func summary(_ service: ConnectService.Service) -> String {
        let provider = service.provider
        return switch provider.authMode {
        case .oauth2: "Sign in at \(service.name) and choose what to allow."
        case .apiKey: "Connect with your \(service.name) \(provider.apiKey?.keyLabel ?? "API key")."
        case .basic: "Connect with your \(service.name) account details."
        case .oauth2ClientCredentials: "Connected by the administrator."
        }
    }

    static func status(_ credential: Credential, serviceName: String) -> (String, Bool) {
        switch credential.status {
        case .active: ("Connected", false)
        case .expired: ("Expired — please reconnect \(serviceName)", true)
        case .needsReauth: ("Please reconnect \(serviceName)", true)
        case .revoked: ("Revoked", true)
        }
    }
}

extension ConnectFailure {
    /// A provider that did not give tokens is a bad gateway; everything else is a request that cannot be used.
    var responseStatus: HTTPResponse.Status {
        switch kind {
        case .refused: .badRequest
        case .providerFailed: .badGateway
        }
    }
}
