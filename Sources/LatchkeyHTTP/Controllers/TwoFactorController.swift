import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyStorage

/// The optional TOTP second factor of password sign-in (RFC 6238: SHA-1, 6 digits, 30 s, one step either side):
/// `GET /settings/two-factor` shows a new secret and its `otpauth://` URI, `POST /settings/two-factor/enable` turns it
/// on with a current code, `POST /settings/two-factor/disable` off with one. A password sign-in of a person with it on
/// waits at `GET|POST /login/two-factor` (5 minutes, 5 wrong codes, bound to the browser; a code is never accepted
/// twice) before `SignIn.complete`.
struct TwoFactorController {
    let signIn: SignIn
    let secrets: TwoFactorSecrets
    /// Counts wrong codes typed in Settings (turning it on or off): 5 in 15 minutes make the person wait 15 minutes,
    /// so a borrowed session cannot guess its way to turning the second factor off.
    var attempts: (any LoginAttemptStore)? = nil
    /// The name authenticator apps list the account under.
    var issuer = "Latchkey"
    /// The cookie of a password sign-in waiting for its code.
    static let cookie = "latchkey_two_factor"

    func addRoutes(web: RouterGroup<AppRequestContext>, signedIn: RouterGroup<SignedInContext>) {
        let login = web.group().add(middleware: CSRFMiddleware { context in loginCSRF(context) })
        login.get("login/two-factor", use: showSignIn)
        login.post("login/two-factor", use: submitSignIn)
        signedIn.get("settings/two-factor", use: showSettings)
        signedIn.post("settings/two-factor/enable", use: enable)
        signedIn.post("settings/two-factor/disable", use: disable)
    }

    /// After the password matched: nil when the person signs in without a second factor, else the way to the code page
    /// (no session yet).
    func challenge(user: User, next: String, context: AppRequestContext) async throws -> Response? {
        guard try await secrets.isEnabled(userID: user.id, tenantID: user.tenantID) else { return nil }
        let token = try await secrets.startChallenge(userID: user.id, tenantID: user.tenantID, browserID: context.browserID ?? "", next: next)
        var response = WebResponse.redirect(to: "/login/two-factor")
        response.setCookie(challengeCookie(token, maxAge: Int(secrets.challengeLifetime)))
        return response
    }

    @Sendable func showSignIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (_, challenge) = try await pending(request, context: context) else { return signInPage(context: context, active: false) }
        _ = challenge
        return signInPage(context: context, active: true)
    }

    @Sendable func submitSignIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        guard let (token, challenge) = try await pending(request, context: context),
            let user = try await signIn.tenants.users.user(id: challenge.userID, tenantID: challenge.tenantID),
            let secret = try await secrets.secret(userID: user.id, tenantID: user.tenantID), secret.enabled
        else { return signInPage(context: context, active: false) }
        let code = form.trimmed("code")
        if let step = TOTP(secret: secret.secret).matchingStep(code, at: signIn.clock.now, after: secret.lastStep),
            try await secrets.use(userID: user.id, tenantID: user.tenantID, step: step)
        {
            try await secrets.endChallenge(token: token)
            let identity = try await signIn.identities.identity(provider: "password", subject: user.id, tenantID: user.tenantID)
            var response = try await signIn.complete(
                user: user,
                method: .password,
                identity: identity,
                request: request,
                context: context,
                next: challenge.next
            )
            response.setCookie(challengeCookie("", maxAge: 0))
            return response
        }
        let left = try await secrets.recordWrongCode(token: token)
        try await signIn.refused(
            tenantID: user.tenantID,
            userID: user.id,
            method: .password,
            reason: "wrong_second_factor",
            request: request,
            context: context
        )
        if left == 0 {
            try await secrets.endChallenge(token: token)
            return signInPage(
                context: context,
                active: false,
                error: "That code is not right, and this sign-in ends after so many tries. Start again."
            )
        }
        return signInPage(
            context: context,
            active: true,
            error: "That code is not right. Enter the code your authenticator app shows now (\(left == 1 ? "1 try" : "\(left) tries") left).",
            status: .unauthorized
        )
    }

    @Sendable func showSettings(_ request: Request, context: SignedInContext) async throws -> Response {
        try await settingsPage(context: context, flash: PageFlash.message(request))
    }

    @Sendable func enable(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let user = context.user
        guard let secret = try await secrets.secret(userID: user.id, tenantID: user.tenantID), !secret.enabled else {
            return WebResponse.redirect(to: "/settings/two-factor")
        }
        if let wait = try await settingsWait(user) { return try await tooManyCodes(context: context, wait: wait) }
        guard let step = TOTP(secret: secret.secret).matchingStep(form.trimmed("code"), at: signIn.clock.now),
            try await secrets.enable(userID: user.id, tenantID: user.tenantID, step: step)
        else {
            if let wait = try await recordWrongSettingsCode(user) { return try await tooManyCodes(context: context, wait: wait) }
            return try await settingsPage(
                context: context,
                error: "That code is not right. Check that the app added this key and enter the code it shows now.",
                status: .badRequest
            )
        }
        try await audit(context: context, request: request, action: "user.two_factor_enabled")
        return WebResponse.redirect(to: "/settings/two-factor", flash: "Two-factor sign-in is on. Your next sign-in with a password asks for a code.")
    }

    @Sendable func disable(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let user = context.user
        guard let secret = try await secrets.secret(userID: user.id, tenantID: user.tenantID), secret.enabled else {
            return WebResponse.redirect(to: "/settings/two-factor")
        }
        if let wait = try await settingsWait(user) { return try await tooManyCodes(context: context, wait: wait) }
        guard let step = TOTP(secret: secret.secret).matchingStep(form.trimmed("code"), at: signIn.clock.now, after: secret.lastStep),
            try await secrets.use(userID: user.id, tenantID: user.tenantID, step: step)
        else {
            if let wait = try await recordWrongSettingsCode(user) { return try await tooManyCodes(context: context, wait: wait) }
            return try await settingsPage(
                context: context,
                error: "That code is not right. Enter the code your authenticator app shows now.",
                status: .badRequest
            )
        }
        try await secrets.disable(userID: user.id, tenantID: user.tenantID)
        try await audit(context: context, request: request, action: "user.two_factor_disabled")
        return WebResponse.redirect(to: "/settings/two-factor", flash: "Two-factor sign-in is off.")
    }

    /// Seconds the person still waits before Settings checks another code, if they typed too many wrong ones.
    private func settingsWait(_ user: User) async throws -> Int? {
        guard let attempts, let until = try await attempts.retryAt(bucket: settingsBucket(user)) else { return nil }
        let wait = until.timeIntervalSince(signIn.clock.now)
        return wait > 0 ? Int(wait.rounded(.up)) : nil
    }

    /// Counts a wrong code typed in Settings; the wait it now imposes, if any.
    private func recordWrongSettingsCode(_ user: User) async throws -> Int? {
        guard let attempts else { return nil }
        let wait = try await attempts.recordFailure(bucket: settingsBucket(user), at: signIn.clock.now, window: 15 * 60) { failures in
            failures >= 5 ? 15 * 60 : nil
        }
        return wait.map { Int($0.rounded(.up)) }
    }

    private func settingsBucket(_ user: User) -> String { "totp-settings:" + signIn.sessions.browserBinding(user.id, purpose: "totp-settings") }

    private func tooManyCodes(context: SignedInContext, wait: Int) async throws -> Response {
        var response = try await settingsPage(
            context: context,
            error: "Too many wrong codes. Try again in \(LoginController.describe(seconds: wait)).",
            status: .tooManyRequests
        )
        response.headers[.retryAfter] = String(wait)
        return response
    }

    /// The waiting sign-in of this browser's cookie.
    private func pending(_ request: Request, context: AppRequestContext) async throws -> (String, TwoFactorSecrets.Challenge)? {
        guard let token = request.cookies[Self.cookie]?.value, token.utf8.count >= 20, token.utf8.count <= 100, let browserID = context.browserID,
            let challenge = try await secrets.challenge(token: token, browserID: browserID)
        else { return nil }
        return (token, challenge)
    }

    private func settingsPage(
        context: SignedInContext,
        flash: String? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let user = context.user
        var values: [String: Any] = ["csrf": signIn.sessions.csrfToken(for: context.sessionToken), "flash": flash as Any, "error": error as Any]
        if let secret = try await secrets.enrolmentSecret(userID: user.id, tenantID: user.tenantID, fresh: TOTP.newSecret()) {
            let totp = TOTP(secret: secret)
            values["enabled"] = false
            values["secret"] = Self.grouped(Base32.encode(secret))
            values["uri"] = totp.uri(account: user.email, issuer: issuer)
        } else {
            values["enabled"] = true
        }
        return HTMLPage.render(
            "two-factor-settings",
            title: "Two-factor sign-in",
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: signIn.sessions)
        )
    }

    private func signInPage(
        context: AppRequestContext,
        active: Bool,
        error: String? = nil,
        status: HTTPResponse.Status? = nil
    ) -> Response {
        let message: String? = active ? error : error ?? "This sign-in has ended or was started in another browser. Sign in again with your password."
        var response = HTMLPage.render(
            "two-factor-sign-in",
            title: "Enter your authenticator code",
            context: [
                "csrf": loginCSRF(context), "active": active, "loginHref": "/login",
                "error": message as Any,
            ],
            status: status ?? (active ? .ok : .badRequest)
        )
        if !active { response.setCookie(challengeCookie("", maxAge: 0)) }
        return response
    }

    private func audit(context: SignedInContext, request: Request, action: String) async throws {
        try await signIn.audit.append(
            AuditRecord(
                actor: AuditActor(
                    id: "user:\(context.user.id)",
                    ip: context.remoteAddress,
                    userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
                ),
                action: action,
                target: context.user.id
            ),
            tenantID: context.user.tenantID
        )
    }

    private func challengeCookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: Self.cookie,
            value: value,
            maxAge: maxAge,
            path: "/login/two-factor",
            secure: signIn.secureCookies,
            httpOnly: true,
            sameSite: .lax
        )
    }

    private func loginCSRF(_ context: AppRequestContext) -> String {
        String(signIn.sessions.browserBinding(context.browserID ?? "", purpose: "login-csrf").prefix(43))
    }

    /// Base32 in groups of four, easier to type.
    static func grouped(_ text: String) -> String {
        stride(from: 0, to: text.count, by: 4).map { offset in
            String(text.dropFirst(offset).prefix(4))
        }.joined(separator: " ")
    }
}
