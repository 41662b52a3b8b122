import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyStorage

/// `/link`: a signed-in person types the code a chat app gave them (`link_required`), and the account the app vouches
/// for (Slack `T1/U2`) becomes one of their identities, WEAK. Only a STRONG session may link (the sign-in middleware
/// sends a WEAK one to sign in fully first). Guesses are limited per code (5 wrong ones use it up), per account (10
/// wrong ones against its codes in 15 minutes use them all up), per person and per browser (5 wrong codes in 15 minutes
/// make them wait).
struct LinkPagesController {
    let identities: AppIdentities
    let sessions: WebSessions
    let attempts: any LoginAttemptStore

    /// Wrong codes allowed per person (and per browser) within ``window`` before they wait.
    static let freeWrongCodes = 5
    static let window: TimeInterval = 15 * 60

    func addRoutes(web: RouterGroup<AppRequestContext>, signedIn: RouterGroup<SignedInContext>) {
        web.get("link", use: page)
        signedIn.post("link", use: link)
    }

    /// The form for a signed-in person; anyone else is sent to sign in (on the tenant's page the link names) and back.
    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let prefill = request.uri.queryParameters.get("code").flatMap(LinkCode.init(parsing:))
        guard let session = context.webSession, let token = context.sessionToken else {
            var next = URLComponents()
            next.path = "/link"
            if let prefill { next.queryItems = [URLQueryItem(name: "code", value: prefill.text)] }
            var login = URLComponents()
            login.path = "/login"
            login.queryItems = [URLQueryItem(name: "next", value: next.string ?? "/link")]
            if let tenant = request.uri.queryParameters.get("tenant"), !tenant.isEmpty, tenant.utf8.count <= 63 {
                login.queryItems?.append(URLQueryItem(name: "tenant", value: tenant))
            }
            return WebResponse.redirect(to: login.string ?? "/login")
        }
        var chrome = PageChrome(user: session.user, sessionToken: token, sessions: sessions)
        chrome.currentPath = "/link"
        return render(
            ["code": prefill?.text as Any, "weak": session.strength == .weak, "flash": PageFlash.message(request) as Any],
            csrf: sessions.csrfToken(for: token),
            chrome: chrome
        )
    }

    @Sendable func link(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let user = context.user
        let actor = AuditActor(
            id: "user:\(user.id)",
            ip: context.remoteAddress,
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
        )
        let buckets = [
            "link-person:" + identities.keyring.mac(user.id, purpose: "link-code-throttle"),
            "link-browser:" + identities.keyring.mac(context.browserID, purpose: "link-code-throttle"),
        ]
        let now = identities.clock.now
        var waitUntil: Date?
        for bucket in buckets {
            if let until = try await attempts.retryAt(bucket: bucket), until > now { waitUntil = max(waitUntil ?? until, until) }
        }
        if let waitUntil {
            let minutes = max(1, Int((waitUntil.timeIntervalSince(now) / 60).rounded(.up)))
            return failed(
                "Too many wrong codes. Wait \(minutes) minute\(minutes == 1 ? "" : "s"), then try again with the code the app showed you.",
                status: .tooManyRequests,
                context: context
            )
        }
        guard let code = LinkCode(parsing: form["code"] ?? "") else {
            return failed(
                "Enter the code the way the app showed it: three letters, a dash and three digits, such as ABC-123.",
                status: .badRequest,
                context: context
            )
        }
        let outcome: LinkCodeRepository.Redemption
        do {
            outcome = try await identities.codes.redeem(
                identities.hashes(of: code),
                tenantID: user.tenantID,
                userID: user.id,
                identityID: NewID.make(),
                now: now,
                maximumWrongGuesses: LinkCode.maximumWrongGuesses,
                perAccount: .init(maximumWrongGuesses: LinkCode.maximumWrongGuessesPerAccount, window: LinkCode.accountGuessWindow)
            )
        } catch let error as LatchkeyError where error.code == .conflict {
            try await audit(actor, user, result: .failure, details: ["reason": "already_linked"])
            return failed(error.message, status: .conflict, context: context)
        }
        let message: String
        switch outcome {
        case .linked(let stored, let identity):
            try await audit(
                actor,
                user,
                target: identity.id,
                result: .success,
                details: ["provider": identity.provider, "subject": identity.subject, "app": stored.appID]
            )
            let claim = AppIdentityClaim(provider: identity.provider, subject: identity.subject, displayName: identity.displayName)
            let name = identity.displayName.map { "\($0) (\(identity.subject))" } ?? identity.subject
            return WebResponse.redirect(
                to: "/link",
                flash: "Your \(claim.providerName) account \(name) is now linked. Go back to the chat and ask again: the app now acts as you."
            )
        case .unknown, .wrong:
            for bucket in buckets {
                _ = try await attempts.recordFailure(bucket: bucket, at: now, window: Self.window) { failures in
                    failures >= Self.freeWrongCodes ? Self.window : nil
                }
            }
            if case .wrong(let remaining) = outcome, remaining == 0 {
                message = "That code is used up after too many wrong tries. Ask the app for a new code."
            } else {
                message = "That code is not right. Check it in the chat and type it again, or ask the app for a new one."
            }
            try await audit(actor, user, result: .failure, details: ["reason": "wrong_code"])
        case .expired:
            message = "That code has expired: codes work for 10 minutes. Ask the app for a new one."
            try await audit(actor, user, result: .failure, details: ["reason": "expired"])
        case .used:
            message = "That code was already used. If your account is not linked yet, ask the app for a new code."
            try await audit(actor, user, result: .failure, details: ["reason": "used"])
        }
        return failed(message, status: .badRequest, context: context)
    }

    private func failed(_ message: String, status: HTTPResponse.Status, context: SignedInContext) -> Response {
        var chrome = PageChrome(context, sessions: sessions)
        chrome.currentPath = "/link"
        return render(["error": message], csrf: sessions.csrfToken(for: context.sessionToken), chrome: chrome, status: status)
    }

    private func render(_ values: [String: Any], csrf: String, chrome: PageChrome, status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        values["csrf"] = csrf
        values["userName"] = chrome.userName
        return HTMLPage.render("link", title: "Link a chat account", context: values, status: status, chrome: chrome)
    }

    private func audit(
        _ actor: AuditActor,
        _ user: User,
        target: String? = nil,
        result: AuditResult,
        details: [String: String]
    ) async throws {
        try await identities.audit.append(
            AuditRecord(actor: actor, action: "identity.link", target: target ?? user.id, result: result, details: details, person: user.id),
            tenantID: user.tenantID
        )
    }
}
