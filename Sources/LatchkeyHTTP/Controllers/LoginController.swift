import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyStorage
import NIOPosix

/// `GET|POST /login` and `POST /logout`: password sign-in for console users of any tenant (`?tenant=<slug>`, the
/// default tenant without one), slowed by `LoginThrottle` (growing waits per account and address or per account and
/// known browser), and a session cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https). Every refused
/// attempt, throttled or not, is audited as a failed `user.sign_in`.
struct LoginController {
    let signIn: SignIn
    let throttle: LoginThrottle
    /// What the other ways to sign in add to the page.
    let options: [LoginPageOptions]
    var tenants: TenantService { signIn.tenants }
    var sessions: WebSessions { signIn.sessions }
    var audit: AuditLog { signIn.audit }
    var secureCookies: Bool { signIn.secureCookies }
    /// Sign-out revokes every application the person authorized through it (MCP clients).
    var authorizationServer: AuthorizationServer? = nil
    /// Asks a person who turned on two-factor sign-in for their code before the session starts.
    var twoFactor: TwoFactorController? = nil

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let signIn = group.group().add(middleware: CSRFMiddleware { context in loginCSRF(context) })
        signIn.get("login", use: show)
        signIn.post("login", use: submit)
        // Sign-out carries the session's token; a page from before the session ended carries the sign-in form's.
        let signOut = group.group().add(
            middleware: CSRFMiddleware { context in context.sessionToken.map(sessions.csrfToken(for:)) ?? loginCSRF(context) }
        )
        signOut.post("logout", use: logout)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let next = WebResponse.safeNext(request.uri.queryParameters.get("next"))
        let tenant = try await signIn.tenant(slug: request.uri.queryParameters.get("tenant"))
        var notice: String?
        if let session = context.webSession {
            // Someone of another organization is told so, not sent on as that person.
            if session.user.tenantID != tenant.id, let token = context.sessionToken {
                return try await signIn.signedInElsewhere(session: session, token: token, tenant: tenant, request: request)
            }
            // A WEAK session (an app vouched for the person) may look but not change things: it signs in again here.
            guard session.strength == .weak else { return WebResponse.redirect(to: next) }
            notice = "To connect services, authorize applications or link accounts, sign in with your own password, passkey or single sign-on."
        }
        if let revoked = request.uri.queryParameters.get("signed_out").flatMap({ Int($0) }) {
            notice =
                revoked == 0
                ? "You are signed out."
                : "You are signed out. The \(revoked == 1 ? "application" : "\(revoked) applications") you authorized can no longer use your services; authorize again after signing in."
        }
        return try await page(context: context, tenant: tenant, next: next, email: "", error: nil, notice: notice)
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let next = WebResponse.safeNext(form["next"])
        let tenant = try await signIn.tenant(slug: form["tenant"])
        let email = form.trimmed("email").lowercased()
        let password = form["password"] ?? ""
        let actor = AuditActor(id: "login", ip: context.remoteAddress, userAgent: request.headers[.userAgent])
        guard !email.isEmpty, !password.isEmpty, password.utf8.count <= 72 else {
            return try await page(
                context: context,
                tenant: tenant,
                next: next,
                email: email,
                error: "Enter your email and password.",
                status: .unauthorized
            )
        }
        let attempt = try await throttle.attempt(tenantID: tenant.id, email: email, address: context.remoteAddress, browserID: context.browserID)
        if let wait = try await throttle.retryAfter(attempt) {
            // Refused before the password is checked, so a wait reveals nothing about it; audited like any failure.
            let target = try await tenants.users.user(email: email, tenantID: tenant.id)?.user.id
            try await audit.append(
                AuditRecord(actor: actor, action: "user.sign_in", target: target, result: .failure, details: ["reason": "throttled"], person: target),
                tenantID: tenant.id
            )
            return try await tooMany(context: context, tenant: tenant, next: next, email: email, wait: wait)
        }
        let found = try await tenants.users.user(email: email, tenantID: tenant.id)
        // Compare against a fixed hash when the account does not exist, so the answer takes as long either way.
        let hash = found?.passwordHash ?? Self.dummyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard let user = found?.user, found?.passwordHash != nil, matches else {
            let wait = try await throttle.recordFailure(attempt)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "user.sign_in",
                    target: found?.user.id,
                    result: .failure,
                    details: ["reason": "bad_password"],
                    person: found?.user.id
                ),
                tenantID: tenant.id
            )
            var message = "That email and password do not match."
            if let wait { message += " Try again in \(Self.describe(seconds: wait))." }
            var response = try await page(context: context, tenant: tenant, next: next, email: email, error: message, status: .unauthorized)
            if let wait { response.headers[.retryAfter] = String(wait) }
            return response
        }
        try await throttle.recordSuccess(attempt)
        if let twoFactor, let step = try await twoFactor.challenge(user: user, next: next, context: context) { return step }
        let identity = try await signIn.identities.identity(provider: "password", subject: user.id, tenantID: tenant.id)
        return try await signIn.complete(user: user, method: .password, identity: identity, request: request, context: context, next: next)
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        // Nothing to end without a session; the form can only have come from an old page.
        guard let token = context.sessionToken else { return WebResponse.redirect(to: "/login") }
        try await sessions.delete(token)
        var revoked = 0
        if let authorizationServer, let user = context.webSession?.user {
            let actor = AuditActor(
                id: "user:\(user.id)",
                ip: context.remoteAddress,
                userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
            )
            revoked = try await authorizationServer.revokeAllGrants(userID: user.id, actor: actor)
        }
        var response = WebResponse.redirect(to: revoked == 0 ? "/login" : "/login?signed_out=\(revoked)")
        response.setCookie(WebCookies.clearedSession(secure: secureCookies))
        return response
    }

    /// The sign-in form's token is bound to the browser cookie, since there is no session yet.
    private func loginCSRF(_ context: AppRequestContext) -> String {
        String(sessions.browserBinding(context.browserID ?? "", purpose: "login-csrf").prefix(43))
    }

    private func page(
        context: AppRequestContext,
        tenant: Tenant,
        next: String,
        email: String,
        error: String?,
        notice: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var values: [String: Any] = [:]
        for option in options {
            for (key, value) in try await option(tenant, next, context) { values[key] = value }
        }
        // A way to sign in that needs a browser API (passkeys) asks for our own scripts and their requests.
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = values["ownScripts"] as? Bool == true
        policy.ownRequests = values["ownRequests"] as? Bool == true
        return HTMLPage.render(
            "login",
            title: "Sign in",
            context: values.merging([
                "csrf": loginCSRF(context), "next": next, "email": email, "error": error as Any, "notice": notice as Any,
                // Mustache shows a section for an empty string: the default tenant's page sets neither.
                "tenant": (tenant.id == signIn.defaultTenant.id ? nil : tenant.slug) as Any,
                "tenantName": (tenant.id == signIn.defaultTenant.id ? nil : tenant.name) as Any,
            ]) { _, own in own },
            status: status,
            policy: policy
        )
    }

    private func tooMany(context: AppRequestContext, tenant: Tenant, next: String, email: String, wait: Int) async throws -> Response {
        var response = try await page(
            context: context,
            tenant: tenant,
            next: next,
            email: email,
            error: "Too many failed sign-ins. Try again in \(Self.describe(seconds: wait)).",
            status: .tooManyRequests
        )
        response.headers[.retryAfter] = String(wait)
        return response
    }

    /// "1 second", "40 seconds".
    static func describe(seconds: Int) -> String {
        seconds == 1 ? "1 second" : "\(seconds) seconds"
    }

    /// A bcrypt hash of a random value, compared against when an account does not exist.
    static let dummyHash = Bcrypt.hash(SecureRandom.token(), cost: 12)
}
