import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyStorage
import Logging

/// `GET|POST /login/email` (ask for a code) and `GET|POST /login/email/code` (enter it): sign-in with a one-time code
/// sent by email, offered only when a mail server is configured. The answer to asking is the same whether or not the
/// address has an account; the code is never logged, audited or put in an address.
struct EmailCodeController {
    let signIn: SignIn
    let codes: EmailCodes
    let mailer: EmailCodeMailer
    /// Carries the address from the request page to the code page (not a secret; the code page also asks for it).
    static let addressCookie = "latchkey_email_code"

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let pages = group.group().add(middleware: CSRFMiddleware { context in loginCSRF(context) })
        pages.get("login/email", use: showRequest)
        pages.post("login/email", use: submitRequest)
        pages.get("login/email/code", use: showCode)
        pages.post("login/email/code", use: submitCode)
    }

    /// What the sign-in page shows: a link to ask for a code.
    var loginOption: LoginPageOptions {
        { [signIn] tenant, next, _ in
            ["emailCodeOffered": true, "emailCodeHref": Self.href("/login/email", tenant: signIn.slugParameter(tenant), next: next)]
        }
    }

    @Sendable func showRequest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let next = WebResponse.safeNext(request.uri.queryParameters.get("next"))
        let tenant = try await signIn.tenant(slug: request.uri.queryParameters.get("tenant"))
        return requestPage(context: context, tenant: tenant, next: next, email: "")
    }

    @Sendable func submitRequest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let next = WebResponse.safeNext(form["next"])
        let tenant = try await signIn.tenant(slug: form["tenant"])
        let email = form.trimmed("email").lowercased()
        guard SMTPSettings.isPlainAddress(email) else {
            return requestPage(
                context: context,
                tenant: tenant,
                next: next,
                email: String(email.prefix(254)),
                emailError: "Enter an email address such as alice@example.com.",
                status: .badRequest
            )
        }
        let user = try await signIn.tenants.users.user(email: email, tenantID: tenant.id)?.user
        switch try await codes.request(email: email, tenantID: tenant.id, clientAddress: context.remoteAddress, user: user) {
        case .limited(let retryAfter):
            try await signIn.refused(tenantID: tenant.id, userID: nil, method: .email, reason: "too_many_codes", request: request, context: context)
            var response = requestPage(
                context: context,
                tenant: tenant,
                next: next,
                email: email,
                error: "Too many codes were asked for that address or from your network. Try again in \(Self.minutes(retryAfter)).",
                status: .tooManyRequests
            )
            response.headers[.retryAfter] = String(retryAfter)
            return response
        case .send(let code, let user):
            try await signIn.audit.append(
                AuditRecord(
                    actor: AuditActor(id: "login", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }),
                    action: "user.sign_in_code_sent",
                    target: user.id,
                    details: ["method": SignInMethod.email.rawValue],
                    person: user.id
                ),
                tenantID: tenant.id
            )
            mailer.send(code: code, to: email, minutes: Int(codes.lifetime / 60), tenant: tenant)
        case .noAccount:
            break
        }
        var response = WebResponse.redirect(to: Self.href("/login/email/code", tenant: signIn.slugParameter(tenant), next: next, sent: true))
        response.setCookie(
            Cookie(
                name: Self.addressCookie,
                value: Data(email.utf8).base64URLEncodedString(),
                maxAge: Int(codes.lifetime),
                path: "/login/email",
                secure: signIn.secureCookies,
                httpOnly: true,
                sameSite: .lax
            )
        )
        return response
    }

    @Sendable func showCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        let next = WebResponse.safeNext(request.uri.queryParameters.get("next"))
        let tenant = try await signIn.tenant(slug: request.uri.queryParameters.get("tenant"))
        let email = WebCookies.text(request, Self.addressCookie, maximumLength: 400) ?? ""
        return codePage(context: context, tenant: tenant, next: next, email: email, sent: request.uri.queryParameters.get("sent") == "1")
    }

    @Sendable func submitCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let next = WebResponse.safeNext(form["next"])
        let tenant = try await signIn.tenant(slug: form["tenant"])
        let email = form.trimmed("email").lowercased()
        let code = form.trimmed("code").filter { !$0.isWhitespace }
        guard SMTPSettings.isPlainAddress(email), code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return codePage(
                context: context,
                tenant: tenant,
                next: next,
                email: String(email.prefix(254)),
                codeError: "Enter your email address and the 6 digits of the code we sent.",
                status: .badRequest
            )
        }
        let outcome = try await codes.check(email: email, code: code, tenantID: tenant.id, users: signIn.tenants.users)
        switch outcome {
        case .signedIn(let user):
            guard let identity = try await emailIdentity(user: user, email: email) else {
                try await signIn.refused(
                    tenantID: tenant.id,
                    userID: user.id,
                    method: .email,
                    reason: "identity_conflict",
                    request: request,
                    context: context
                )
                return codePage(
                    context: context,
                    tenant: tenant,
                    next: next,
                    email: email,
                    codeError: "This address is linked to another person here. Ask an administrator.",
                    status: .conflict
                )
            }
            var response = try await signIn.complete(user: user, method: .email, identity: identity, request: request, context: context, next: next)
            response.setCookie(
                Cookie(name: Self.addressCookie, value: "", maxAge: 0, path: "/login/email", secure: signIn.secureCookies, httpOnly: true)
            )
            return response
        case .wrong(let left):
            try await signIn.refused(tenantID: tenant.id, userID: nil, method: .email, reason: "wrong_code", request: request, context: context)
            let message =
                left == 0
                ? "That code is not right, and it no longer works after so many tries. Ask for a new code."
                : "That code is not right. You can try \(left == 1 ? "once more" : "\(left) more times") with this code."
            return codePage(context: context, tenant: tenant, next: next, email: email, codeError: message, status: .unauthorized)
        case .dead:
            try await signIn.refused(tenantID: tenant.id, userID: nil, method: .email, reason: "no_valid_code", request: request, context: context)
            return codePage(
                context: context,
                tenant: tenant,
                next: next,
                email: email,
                codeError: "There is no code for that address that still works: it was used, expired or tried too often. Ask for a new code.",
                status: .unauthorized
            )
        }
    }

    /// The person's `email` identity, added on first use; nil when the address is linked to someone else.
    private func emailIdentity(user: User, email: String) async throws -> Identity? {
        if let existing = try await signIn.identities.identity(provider: "email", subject: email, tenantID: user.tenantID) {
            return existing.userID == user.id ? existing : nil
        }
        let identity = Identity(
            id: "idn_" + NewID.make(),
            tenantID: user.tenantID,
            userID: user.id,
            method: .email,
            provider: "email",
            subject: email,
            displayName: email,
            email: email,
            createdAt: signIn.clock.now
        )
        do {
            try await signIn.identities.insert(identity)
        } catch let error as LatchkeyError where error.code == .conflict {
            let existing = try await signIn.identities.identity(provider: "email", subject: email, tenantID: user.tenantID)
            return existing?.userID == user.id ? existing : nil
        }
        return identity
    }

    /// The sign-in form's token, bound to the browser cookie (the same as the password form's).
    private func loginCSRF(_ context: AppRequestContext) -> String {
        String(signIn.sessions.browserBinding(context.browserID ?? "", purpose: "login-csrf").prefix(43))
    }

    private func requestPage(
        context: AppRequestContext,
        tenant: Tenant,
        next: String,
        email: String,
        emailError: String? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let slug = signIn.slugParameter(tenant)
        let summary: String? = error ?? emailError
        return HTMLPage.render(
            "email-code-request",
            title: "Sign in with an email code",
            context: [
                "csrf": loginCSRF(context), "next": next, "tenant": slug, "email": email, "emailError": emailError as Any,
                "error": summary as Any, "loginHref": Self.href("/login", tenant: slug, next: next),
            ],
            status: status
        )
    }

    private func codePage(
        context: AppRequestContext,
        tenant: Tenant,
        next: String,
        email: String,
        sent: Bool = false,
        codeError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let slug = signIn.slugParameter(tenant)
        return HTMLPage.render(
            "email-code-enter",
            title: "Enter your sign-in code",
            context: [
                "csrf": loginCSRF(context), "next": next, "tenant": slug, "email": email, "sent": sent, "codeError": codeError as Any,
                "error": codeError as Any, "loginHref": Self.href("/login", tenant: slug, next: next),
                "requestHref": Self.href("/login/email", tenant: slug, next: next),
            ],
            status: status
        )
    }

    /// A path on the sign-in pages that keeps the tenant and the way on.
    static func href(_ path: String, tenant: String, next: String, sent: Bool = false) -> String {
        var items: [URLQueryItem] = []
        if !tenant.isEmpty { items.append(URLQueryItem(name: "tenant", value: tenant)) }
        if next != "/connections" { items.append(URLQueryItem(name: "next", value: next)) }
        if sent { items.append(URLQueryItem(name: "sent", value: "1")) }
        var components = URLComponents()
        components.path = path
        components.queryItems = items.isEmpty ? nil : items
        return components.string ?? path
    }

    /// "1 minute", "12 minutes".
    static func minutes(_ seconds: Int) -> String {
        let minutes = max(1, (seconds + 59) / 60)
        return minutes == 1 ? "1 minute" : "\(minutes) minutes"
    }
}

/// Sends sign-in codes through the configured mail server, in the background so that the answer to "send me a code"
/// takes as long whether or not a message goes out. A failure is logged without the code or the address.
struct EmailCodeMailer: Sendable {
    let client: SMTPClient
    let siteName: String
    let clock: any LatchkeyClock
    let logger: Logger

    func send(code: String, to address: String, minutes: Int, tenant: Tenant) {
        let message = EmailMessage.signInCode(code, from: client.settings.from, to: address, minutes: minutes, site: siteName, date: clock.now)
        let client = client
        let logger = logger
        let tenantID = tenant.id
        Task {
            do {
                try await client.send(message)
            } catch {
                logger.warning("email sign-in code not sent", metadata: ["tenant_id": "\(tenantID)", "error": "\(error)"])
            }
        }
    }
}
