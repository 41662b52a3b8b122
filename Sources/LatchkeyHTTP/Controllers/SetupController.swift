import Foundation
import Hummingbird
import HummingbirdBcrypt
import LatchkeyCore
import LatchkeyStorage
import NIOPosix

/// `GET|POST /setup?token=…`: creates the first administrator with the one-time token printed at start. Once an
/// administrator exists the route answers 404 with a page that says setup is done and leads to the sign-in.
struct SetupController {
    let tenants: TenantService
    let tenant: Tenant
    let publicURL: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("setup", use: show)
        router.post("setup", use: submit)
    }

    struct Form: Decodable {
        var csrf: String?
        var email: String?
        var name: String?
        var password: String?
        var confirm: String?
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let done = try await setupComplete() { return done }
        let token = try await checkedToken(request)
        return page(token: token, errors: [], email: "", name: "")
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let done = try await setupComplete() { return done }
        let token = try await checkedToken(request)
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let form: Form
        do {
            form = try URLEncodedFormDecoder().decode(Form.self, from: String(buffer: buffer))
        } catch {
            throw LatchkeyError.invalidRequest("The form could not be read; please submit it again.")
        }
        guard let sent = form.csrf, ConstantTime.equals(sent, csrfToken(for: token)) else {
            throw LatchkeyError.forbidden("The form expired or came from another page; please open the setup link again.")
        }
        let email = (form.email ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let name = (form.name ?? "").trimmingCharacters(in: .whitespaces)
        let password = form.password ?? ""
        var errors: [String] = []
        if !Self.looksLikeEmail(email) { errors.append("Enter a valid email address.") }
        if name.isEmpty || name.count > 200 { errors.append("Enter your name (up to 200 characters).") }
        if password.count < 12 { errors.append("Choose a password of at least 12 characters.") }
        if password.utf8.count > 72 { errors.append("Choose a password of at most 72 bytes.") }
        if password != (form.confirm ?? "") { errors.append("The two passwords do not match.") }
        if !errors.isEmpty {
            return page(token: token, errors: errors, email: email, name: name, status: .badRequest)
        }
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: 12) }
        let actor = AuditActor(id: "setup", ip: context.remoteAddress, userAgent: request.headers[.userAgent])
        let user = try await tenants.completeSetup(
            token: token,
            tenantID: tenant.id,
            email: email,
            displayName: name,
            passwordHash: hash,
            actor: actor
        )
        let (_, apiKey) = try await tenants.createAdminKey(
            tenantID: tenant.id,
            name: "created at setup by \(email)",
            actor: AuditActor(id: "user:\(user.id)")
        )
        // The page's copy button is our own script (no inline script, ever).
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        return HTMLPage.render(
            "setup-done",
            title: "Administrator created",
            context: ["name": name, "email": email, "apiKey": apiKey, "publicURL": publicURL],
            policy: policy
        )
    }

    /// Once an administrator exists the link has done its work: the page says so and where to sign in (404: the
    /// route is gone).
    private func setupComplete() async throws -> Response? {
        guard try await tenants.users.adminExists(tenantID: tenant.id) else { return nil }
        return HTMLPage.render(
            "message",
            title: "Setup is done",
            context: [
                "heading": "Setup is done",
                "message":
                    "This server already has its administrator, so this setup link is no longer needed. Sign in to the console with your email and password.",
                "link": ["id": "sign-in", "href": "/login", "label": "Sign in"],
            ],
            status: .notFound
        )
    }

    /// The token from the query, if it is still valid; otherwise the reason as an error page.
    private func checkedToken(_ request: Request) async throws -> String {
        guard let token = request.query("token"), try await tenants.setupTokenIsValid(token, tenantID: tenant.id) else {
            throw LatchkeyError.forbidden(
                "This setup link is not valid or has expired. Use the link printed when Latchkey started, or restart it to print a new one."
            )
        }
        return token
    }

    private func page(token: String, errors: [String], email: String, name: String, status: HTTPResponse.Status = .ok) -> Response {
        HTMLPage.render(
            "setup",
            title: "Set up Latchkey",
            context: ["token": token, "csrf": csrfToken(for: token), "errors": errors, "hasErrors": !errors.isEmpty, "email": email, "name": name],
            status: status
        )
    }

    /// The form carries a value derived from the token, so a cross-site post without the page cannot succeed.
    private func csrfToken(for token: String) -> String {
        tenants.derivedToken(token, purpose: "setup-csrf")
    }

    static func looksLikeEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@")
        return value.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !value.contains(" ")
    }
}
