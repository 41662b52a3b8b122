import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import NIOCore

/// The hosted connect page of apps, `GET|POST /connect/{token}`: no Latchkey sign-in (the app vouches for its
/// user), bound to the browser that first opens it, in the app's branding. Works without JavaScript.
struct HostedConnectController {
    let sessions: AppConnectSessions
    let connect: ConnectService

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("connect/:token", use: show)
        group.post("connect/:token", use: start)
        let script = ConnectScript.source(origin: sessions.publicOrigin)
        group.get("connect.js") { _, _ in ConsoleScript.response(script) }
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let browserID = context.browserID else { return Self.unusable(.init(heading: "Cookies needed", message: Self.noCookie)) }
        do {
            let opened = try await sessions.open(token: token, browserID: browserID)
            return page(opened, token: token, message: nil, form: nil)
        } catch let unusable as AppConnectSessions.Unusable {
            return Self.unusable(unusable)
        }
    }

    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let browserID = context.browserID else { return Self.unusable(.init(heading: "Cookies needed", message: Self.noCookie)) }
        let form = try await WebForm.read(request)
        do {
            let opened = try await sessions.open(token: token, browserID: browserID)
            switch try await sessions.start(opened, form: ConnectFormValues(form.fields)) {
            case .redirect(let url):
                if let source = connect.formActionSource(for: opened.service), source.allows(url) {
                    return WebResponse.redirect(to: url.absoluteString)
                }
                return HTMLPage.render("connect-continue", title: "Continue to sign in", context: ["url": url.absoluteString], refresh: url)
            case .form(let message):
                return page(opened, token: token, message: message, form: form, status: message == nil ? .ok : .badRequest)
            case .finished(let finished):
                return Self.finished(finished)
            }
        } catch let unusable as AppConnectSessions.Unusable {
            return Self.unusable(unusable)
        } catch let failure as ConnectFailure {
            return Self.unusable(.init(heading: failure.heading, message: failure.message), status: failure.responseStatus)
        }
    }

    /// The provider's callback for an app's session; nil when the callback is not for one.
    func callback(query: [(name: String, value: String)], browserID: String?) async throws -> Response? {
        do {
            guard let finished = try await sessions.complete(query: query, browserID: browserID) else { return nil }
            if let token = finished.retryToken, let browserID {
                let opened = try await sessions.open(token: token, browserID: browserID)
                return page(opened, token: token, message: finished.message, form: nil, status: .badRequest, giveUp: finished.giveUpRedirect)
            }
            return Self.finished(finished)
        } catch let unusable as AppConnectSessions.Unusable {
            return Self.unusable(unusable)
        }
    }

    static let noCookie = "This page needs cookies to keep your connection safe. Please allow cookies for this site and open the link again."

    /// The page with *Connect*: the app's branding, the service, the permissions in plain words, the privacy link.
    func page(
        _ opened: AppConnectSessions.Opened,
        token: String,
        message: String?,
        form: WebForm?,
        status: HTTPResponse.Status = .ok,
        giveUp: URL? = nil
    ) -> Response {
        Self.page(
            opened.app,
            service: opened.service,
            form: opened.form,
            token: token,
            message: message,
            values: form,
            status: status,
            giveUp: giveUp,
            connect: connect,
            redirectURL: opened.session.redirectURL
        )
    }

    static func page(
        _ app: App,
        service: ConnectService.Service,
        form spec: ConnectForm,
        token: String,
        message: String?,
        values: WebForm?,
        status: HTTPResponse.Status,
        giveUp: URL?,
        connect: ConnectService,
        redirectURL: String?
    ) -> Response {
        let appName = app.branding.displayName ?? app.name
        let scopes = service.integration.scopes.isEmpty ? service.provider.oauth?.defaultScopes ?? [] : service.integration.scopes
        let permissions = ConnectionCenterController.permissions(provider: service.provider, scopes: scopes)
        var context = spec.context(csrf: "", form: values, error: nil)
        context["token"] = token
        context["appName"] = appName
        context["initial"] = String(appName.prefix(1)).uppercased()
        context["accent"] = app.branding.accentColor ?? "#3b5bdb"
        let logo = ContentSecurityPolicy.logoSource(app.branding.logoURL)
        context["logo"] = logo.flatMap { _ in app.branding.logoURL } as Any
        context["service"] = service.name
        context["summary"] = ConnectionCenterController.summary(service)
        context["permissions"] = permissions
        context["hasPermissions"] = !permissions.isEmpty
        context["message"] = message as Any
        context["privacy"] = app.branding.privacyURL as Any
        context["giveUp"] = giveUp?.absoluteString as Any
        context["button"] = message == nil ? "Connect" : "Try again"
        // The form leads to the provider (OAuth) or, once an API key is stored, back to the app.
        var sources = connect.formActionSource(for: service).map { [$0] } ?? []
        if let redirectURL, let url = URL(string: redirectURL), let source = FormActionSource(origin: url) { sources.append(source) }
        var policy = ContentSecurityPolicy(formActions: sources)
        policy.imageSource = logo
        return HTMLPage.render(
            "hosted-connect",
            title: "Connect \(service.name) to \(appName)",
            context: context,
            status: status,
            policy: policy
        )
    }

    /// Where a finished session goes: the app's redirect URL, or a page saying how it ended (with *Try again* after
    /// a denial).
    static func finished(_ finished: AppConnectSessions.Finished) -> Response {
        if let redirect = finished.redirect { return WebResponse.redirect(to: redirect.absoluteString) }
        let appName = finished.app.branding.displayName ?? finished.app.name
        // The outcome for /connect.js in the app's window, posted only to the app's allowed origins.
        var policy = ContentSecurityPolicy()
        policy.ownScripts = true
        policy.imageSource = ContentSecurityPolicy.logoSource(finished.app.branding.logoURL)
        return HTMLPage.render(
            "hosted-connect-done",
            title: finished.succeeded ? "Connected" : "Not connected",
            context: [
                "appName": appName,
                "initial": String(appName.prefix(1)).uppercased(),
                "logo": policy.imageSource.flatMap { _ in finished.app.branding.logoURL } as Any,
                "accent": finished.app.branding.accentColor ?? "#3b5bdb",
                "heading": finished.succeeded ? "\(finished.serviceName) is connected" : "\(finished.serviceName) was not connected",
                "message": finished.message,
                "succeeded": finished.succeeded,
                "sessionId": finished.session.id,
                "status": finished.succeeded ? "success" : "failed",
                "error": finished.error as Any,
                "origins": finished.app.allowedRedirectOrigins.joined(separator: " "),
            ],
            status: finished.succeeded ? .ok : .badRequest,
            policy: policy
        )
    }

    static func unusable(_ unusable: AppConnectSessions.Unusable, status: HTTPResponse.Status = .badRequest) -> Response {
        HTMLPage.render(
            "message",
            title: unusable.heading,
            context: ["heading": unusable.heading, "message": unusable.message, "home": false],
            status: status
        )
    }
}
