import Hummingbird
import LatchkeyAuthServer
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage

/// The route groups the ways of signing in and a person's identities are added to.
struct IdentityRouteGroups {
    /// Pages for everyone (sign-in pages, provider callbacks): cookies read, no session required.
    let web: RouterGroup<AppRequestContext>
    /// Pages of a signed-in person (CSRF checked on posts; a WEAK session may only read).
    let signedIn: RouterGroup<SignedInContext>
    /// Pages of a tenant's administrators.
    let admin: RouterGroup<AdminPageContext>
    /// `/api/v1` for a tenant admin key.
    let api: RouterGroup<AdminContext>
    /// `/api/v1` for an app key.
    let appKeyed: RouterGroup<AppKeyContext>
    let recorder: RouteRecorder?
    /// The authorization server of `/mcp`: signing out everywhere revokes the applications a person authorized.
    var authorizationServer: AuthorizationServer? = nil
}

/// Values a sign-in method adds to the sign-in page for its partial (`login-passkey`, `login-single-sign-on`,
/// `login-email-code`): for the tenant whose page it is and the `next` path the person goes on to.
typealias LoginPageOptions = @Sendable (_ tenant: Tenant, _ next: String, _ context: AppRequestContext) async throws -> [String: any Sendable]

/// Adds the routes of every sign-in method besides the password (`LoginController`) and of the identities a person
/// links: single sign-on, social sign-in, passkeys, email codes, link codes, sessions and linked accounts. Returns
/// what each method adds to the sign-in page.
func addIdentityRoutes(runtime: LatchkeyRuntime, signIn: SignIn, groups: IdentityRouteGroups) -> [LoginPageOptions] {
    let options: [LoginPageOptions] = []
    SessionsSettingsController(
        sessions: signIn.sessions,
        audit: runtime.audit,
        authorizationServer: groups.authorizationServer,
        secureCookies: signIn.secureCookies
    ).addRoutes(to: groups.signedIn)
    IdentitiesSettingsController(
        identities: signIn.identities,
        apps: AppRepository(database: runtime.database),
        integrations: IntegrationRepository(database: runtime.database),
        sessions: signIn.sessions,
        audit: runtime.audit
    ).addRoutes(to: groups.signedIn)
    SettingsOverviewController(sessions: signIn.sessions).addRoutes(to: groups.signedIn)
    return options
}
