import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyAuthServer
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `GET|POST /oauth/authorize`: checks the request, sends a person who is not signed in to sign in (and back), shows
/// the consent page and, on its form post, redirects to the client with a code or `access_denied`. Limited per
/// client address.
struct OAuthAuthorizeController {
    let server: AuthorizationServer
    let connect: ConnectService
    let sessions: WebSessions
    let limit: OAuthRateLimiter

    func addRoutes(web: RouterGroup<AppRequestContext>, signedIn: RouterGroup<SignedInContext>) {
        web.get("oauth/authorize", use: show)
        signedIn.post("oauth/authorize", use: decide)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let wait = limit.retryAfter("authorize|\(context.remoteAddress ?? "")") { return tooMany(wait) }
        var fields: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where fields[String(name)] == nil { fields[String(name)] = String(value) }
        let check = await server.check(AuthorizationRequest(fields: fields))
        switch check {
        case .errorPage(let message):
            return errorPage(message)
        case .redirect(let url):
            return WebResponse.redirect(to: url)
        case .consent(let authorization):
            guard let session = context.webSession, let token = context.sessionToken else {
                // `&` and `=` of the authorization request must stay inside the one `next` value.
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~/")
                let next = request.uri.description.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/connections"
                return WebResponse.redirect(to: "/login?next=" + next)
            }
            return try await consentPage(authorization, fields: fields, user: session.user, csrf: sessions.csrfToken(for: token), error: nil)
        }
    }

    @Sendable func decide(_ request: Request, context: SignedInContext) async throws -> Response {
        if let wait = limit.retryAfter("authorize|\(context.remoteAddress ?? "")") { return tooMany(wait) }
        let form = try await WebForm.read(request)
        let check = await server.check(AuthorizationRequest(fields: form.fields))
        let authorization: ValidAuthorization
        switch check {
        case .errorPage(let message): return errorPage(message)
        case .redirect(let url): return WebResponse.redirect(to: url)
        case .consent(let valid): authorization = valid
        }
        let actor = AuditActor(
            id: "user:\(context.user.id)",
            ip: context.remoteAddress,
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
        )
        guard form["decision"] == "approve" else {
            return WebResponse.redirect(to: try await server.deny(authorization, actor: actor))
        }
        let connected = try await connectedServices(of: context.user).map(\.key)
        let chosen = connected.filter { form["service.\($0)"] == "on" }
        guard !chosen.isEmpty else {
            return try await consentPage(
                authorization,
                fields: AuthorizationRequest(fields: form.fields).fields,
                user: context.user,
                csrf: sessions.csrfToken(for: context.sessionToken),
                error: "Tick at least one service to share, or choose Deny.",
                status: .unprocessableContent
            )
        }
        return WebResponse.redirect(to: try await server.approve(authorization, userID: context.user.id, services: chosen, actor: actor))
    }

    /// The person's connected services (integration keys with a name), and the enabled ones not connected yet.
    func connectedServices(of user: User) async throws -> [(key: String, name: String)] {
        try await services(of: user).connected
    }

    func services(of user: User) async throws -> (connected: [(key: String, name: String)], unconnected: [(key: String, name: String)]) {
        let mine = Set(try await connect.credentials(of: user, integrationKey: nil).map(\.integrationKey))
        let enabled = try await connect.integrations.integrations.list(tenantID: user.tenantID).filter(\.enabled)
        var connected: [(key: String, name: String)] = []
        var unconnected: [(key: String, name: String)] = []
        for integration in enabled {
            guard let provider = connect.catalog.provider(id: integration.provider), provider.authMode != .oauth2ClientCredentials else { continue }
            let name = ConnectService.Service(integration: integration, provider: provider).name
            if mine.contains(integration.key) { connected.append((integration.key, name)) } else { unconnected.append((integration.key, name)) }
        }
        return (connected, unconnected)
    }

    private func consentPage(
        _ authorization: ValidAuthorization,
        fields: [String: String],
        user: User,
        csrf: String,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (connected, unconnected) = try await services(of: user)
        // The form's answer is a 303 to the client's redirect URI; Chromium checks that redirect against form-action.
        let target = URL(string: authorization.redirectURI).flatMap(FormActionSource.init(origin:))
        return HTMLPage.render(
            "oauth-consent",
            title: "Allow \(authorization.displayName)?",
            context: [
                "clientName": authorization.displayName,
                "redirectHost": authorization.redirectHost,
                "loopbackOnly": authorization.isLoopbackOnly,
                "permissions": authorization.scopes,
                "fields": fields.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
                "services": connected.map { ["key": $0.key, "name": $0.name] },
                "hasServices": !connected.isEmpty,
                "unconnected": unconnected.map { ["key": $0.key, "name": $0.name] },
                "hasUnconnected": !unconnected.isEmpty,
                "returnTo": Self.returnTo(fields),
                "csrf": csrf,
                "error": error as Any,
            ],
            status: status,
            policy: ContentSecurityPolicy(formActions: target.map { [$0] } ?? [])
        )
    }

    /// The consent page's own URL, encoded as one query value: where *connect first* comes back to.
    static func returnTo(_ fields: [String: String]) -> String {
        var components = URLComponents()
        components.path = "/oauth/authorize"
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let url = (components.string ?? "/oauth/authorize").replacingOccurrences(of: "+", with: "%2B")
        return url.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    private func errorPage(_ message: String) -> Response {
        HTMLPage.error(status: .badRequest, title: "This sign-in request cannot be used", message: message)
    }

    private func tooMany(_ wait: Int) -> Response {
        var headers = HTTPFields()
        headers[.retryAfter] = String(wait)
        return HTMLPage.error(
            status: .tooManyRequests,
            title: "Too many requests",
            message: "Too many sign-in requests came from your address. Wait \(wait) seconds and try again.",
            headers: headers
        )
    }
}
