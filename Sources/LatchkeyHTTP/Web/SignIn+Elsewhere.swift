import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

extension SignIn {
    /// The sign-in page of `tenant` opened by someone signed in to another organization: a page that says so, with a
    /// sign-out button, rather than sending them on as the person of the other organization.
    func signedInElsewhere(session: WebSessions.Session, token: String, tenant: Tenant, request: Request) async throws -> Response {
        let current = try await tenants.directory.tenant(id: session.user.tenantID)
        var address = URLComponents()
        address.path = "/login"
        address.queryItems = slugParameter(tenant).isEmpty ? nil : [URLQueryItem(name: "tenant", value: slugParameter(tenant))]
        var chrome = PageChrome(user: session.user, sessionToken: token, sessions: sessions)
        chrome.currentPath = request.uri.path
        return HTMLPage.render(
            "signed-in-elsewhere",
            title: "Signed in to another organization",
            context: [
                "current": current?.name ?? "another organization", "email": session.user.email, "wanted": tenant.name,
                "address": address.string ?? "/login", "csrf": sessions.csrfToken(for: token),
            ],
            chrome: chrome
        )
    }
}
