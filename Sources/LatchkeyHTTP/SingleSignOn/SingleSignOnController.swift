import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// The pages of single sign-on and social sign-in: `GET /login/sso/{integrationKey}?tenant=&next=` sends the person to
/// the provider, `GET /login/sso/callback` takes its answer; `POST /settings/identities/sso/{integrationKey}` (a STRONG
/// session) adds the provider to the signed-in person instead. Whatever goes wrong ends on a page in plain words.
struct SingleSignOnController {
    let sso: SingleSignOn
    let signIn: SignIn
    var sessions: WebSessions { signIn.sessions }

    func addRoutes(web: RouterGroup<AppRequestContext>, signedIn: RouterGroup<SignedInContext>) {
        web.get("login/sso/callback", use: callback)
        web.get("login/sso/:key", use: start)
        signedIn.post("settings/identities/sso/:key", use: link)
    }

    /// What the sign-in page shows: a button per enabled provider of the tenant.
    func loginOptions(tenant: Tenant, next: String) async throws -> [String: any Sendable] {
        let slug = signIn.slugParameter(tenant)
        let buttons: [[String: String]] = try await sso.enabled(tenantID: tenant.id).map { candidate in
            var query = URLComponents()
            query.queryItems = (slug.isEmpty ? [] : [URLQueryItem(name: "tenant", value: slug)]) + [URLQueryItem(name: "next", value: next)]
            return [
                "href": "/login/sso/\(candidate.integration.key)?\(query.percentEncodedQuery ?? "")", "label": "Sign in with \(candidate.name)",
                "key": candidate.integration.key,
            ]
        }
        return ["ssoProviders": buttons, "ssoAny": !buttons.isEmpty]
    }

    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let next = WebResponse.safeNext(request.uri.queryParameters.get("next"))
        let tenant = try await signIn.tenant(slug: request.uri.queryParameters.get("tenant"))
        let back = signIn.slugParameter(tenant).isEmpty ? "/login" : "/login?tenant=\(signIn.slugParameter(tenant))"
        let key = context.parameters.get("key") ?? ""
        guard let browserID = context.browserID else { return failure("Cookies needed", Self.noCookie, back: back) }
        let candidate: SingleSignOn.Candidate
        do {
            candidate = try await sso.candidate(key: key, tenantID: tenant.id)
            guard try await sso.providers.settings(integrationKey: candidate.integration.key, tenantID: tenant.id)?.enabled == true else {
                throw LatchkeyError(.notFound, "Signing in with \(candidate.name) is not turned on here.")
            }
        } catch let error as LatchkeyError {
            return failure("Single sign-on is not available", error.message, back: back, status: .notFound)
        }
        let url = try await sso.start(
            candidate,
            tenantID: tenant.id,
            browserBinding: binding(browserID),
            linkUserID: nil,
            next: next
        )
        return WebResponse.redirect(to: url.absoluteString)
    }

    @Sendable func link(_ request: Request, context: SignedInContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        let candidate: SingleSignOn.Candidate
        do {
            candidate = try await sso.candidate(key: key, tenantID: context.tenantID)
            guard try await sso.providers.settings(integrationKey: candidate.integration.key, tenantID: context.tenantID)?.enabled == true else {
                throw LatchkeyError(.notFound, "Signing in with \(candidate.name) is not turned on here.")
            }
        } catch let error as LatchkeyError {
            return WebResponse.redirect(to: "/settings/identities", flash: error.message)
        }
        let url = try await sso.start(
            candidate,
            tenantID: context.tenantID,
            browserBinding: binding(context.browserID),
            linkUserID: context.user.id,
            next: "/settings/identities"
        )
        // A page of our own that moves on at once: the form's page may not name the provider in its `form-action`.
        return HTMLPage.render(
            "sso-continue",
            title: "Continue to \(candidate.name)",
            context: ["ssoURL": url.absoluteString, "ssoName": candidate.name],
            chrome: PageChrome(context, sessions: sessions),
            refresh: url
        )
    }

    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let state = query.get("state"), !state.isEmpty, state.utf8.count <= 256 else {
            return failure("Sign-in incomplete", "The answer from the provider was incomplete. Start signing in again.", back: "/login")
        }
        guard let flow = try await sso.take(state: state) else {
            return failure("Sign-in expired", "This sign-in has expired or was already used. Start signing in again.", back: "/login")
        }
        let tenant = try await signIn.tenants.directory.tenant(id: flow.tenantID)
        let slug = tenant.map(signIn.slugParameter) ?? ""
        let back = flow.linkUserID != nil ? "/settings/identities" : (slug.isEmpty ? "/login" : "/login?tenant=\(slug)")
        guard let browserID = context.browserID, ConstantTime.equals(binding(browserID), flow.browserBinding) else {
            return failure("Sign-in started elsewhere", "This sign-in was started in another browser. Start again in this one.", back: back)
        }
        let outcome = SingleSignOnOutcome(sso: sso, signIn: signIn, request: request, context: context, flow: flow, back: back)
        if let error = query.get("error") {
            return try await outcome.providerError(error)
        }
        guard let code = query.get("code"), !code.isEmpty else {
            return failure("Sign-in incomplete", "The answer from the provider was incomplete. Start signing in again.", back: back)
        }
        return try await outcome.finish(code: code, state: state, issuer: query.get("iss"))
    }

    private func binding(_ browserID: String) -> String { sessions.browserBinding(browserID, purpose: "sign-in-flow") }

    static let noCookie = "Your browser did not send Latchkey's cookie. Allow cookies for this site and start signing in again."

    /// A page that says what went wrong and links back to where the person started.
    func failure(_ heading: String, _ message: String, back: String, status: HTTPResponse.Status = .badRequest) -> Response {
        Self.failurePage(heading, message, back: back, status: status)
    }

    static func failurePage(_ heading: String, _ message: String, back: String, status: HTTPResponse.Status = .badRequest) -> Response {
        HTMLPage.render(
            "message",
            title: heading,
            context: [
                "heading": heading, "message": message,
                "link": ["id": "back", "href": back, "label": back.hasPrefix("/settings") ? "Back to your settings" : "Back to sign-in"],
                "home": false,
            ],
            status: status
        )
    }
}
