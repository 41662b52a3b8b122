import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// What every way of signing in shares: which tenant a sign-in page is for, and how a proven identity becomes a
/// session (the cookie, the identity's last use, the audit event, the way back to where the person was going).
struct SignIn: Sendable {
    let tenants: TenantService
    let defaultTenant: Tenant
    let sessions: WebSessions
    let identities: IdentityRepository
    let audit: AuditLog
    let clock: any LatchkeyClock
    let secureCookies: Bool

    /// The tenant a sign-in page is for: the one named by `slug` (the `tenant` query or form field), the default
    /// tenant when there is none. An unknown slug is a 404 that says to check the address.
    func tenant(slug: String?) async throws -> Tenant {
        guard let slug = slug?.trimmingCharacters(in: .whitespaces), !slug.isEmpty, slug != defaultTenant.slug else {
            return defaultTenant
        }
        guard slug.utf8.count <= 63, let tenant = try await tenants.directory.tenant(slug: slug) else {
            throw LatchkeyError(.notFound, "There is no sign-in page for that organization. Check the address you were given.")
        }
        return tenant
    }

    /// The `tenant` query value that keeps a link on the same tenant's sign-in page; empty for the default tenant.
    func slugParameter(_ tenant: Tenant) -> String { tenant.id == defaultTenant.id ? "" : tenant.slug }

    /// Ends any session this browser had (a WEAK one being stepped up, or someone else's), starts a new one for
    /// `user`, records the identity's use and audits `user.sign_in` with the method; answers with the redirect to
    /// `next` carrying the new session cookie.
    func complete(
        user: User,
        method: SignInMethod,
        identity: Identity?,
        request: Request,
        context: AppRequestContext,
        next: String
    ) async throws -> Response {
        if let previous = context.sessionToken { try await sessions.delete(previous) }
        if let identity { try await identities.touch(id: identity.id, at: clock.now) }
        let userAgent = request.headers[.userAgent]
        let token = try await sessions.create(
            user: user,
            method: method,
            identityID: identity?.id,
            ip: context.remoteAddress,
            userAgent: userAgent
        )
        var details = ["method": method.rawValue]
        if let identity, method != .password { details["provider"] = String(identity.provider.prefix(200)) }
        try await audit.append(
            AuditRecord(
                actor: AuditActor(id: "user:\(user.id)", ip: context.remoteAddress, userAgent: userAgent.map { String($0.prefix(256)) }),
                action: "user.sign_in",
                target: user.id,
                details: details
            ),
            tenantID: user.tenantID
        )
        var response = WebResponse.redirect(to: next)
        response.setCookie(WebCookies.session(token, secure: secureCookies))
        return response
    }

    /// Audits a refused sign-in (`user.sign_in`, failure) with the reason, and the person when known.
    func refused(
        tenantID: String,
        userID: String?,
        method: SignInMethod,
        reason: String,
        request: Request,
        context: AppRequestContext
    ) async throws {
        try await audit.append(
            AuditRecord(
                actor: AuditActor(id: "login", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }),
                action: "user.sign_in",
                target: userID,
                result: .failure,
                details: ["method": method.rawValue, "reason": reason],
                person: userID
            ),
            tenantID: tenantID
        )
    }
}
