import Hummingbird
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyOAuthClient
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
}

/// Values a sign-in method adds to the sign-in page for its partial (`login-passkey`, `login-single-sign-on`,
/// `login-email-code`): for the tenant whose page it is and the `next` path the person goes on to.
typealias LoginPageOptions = @Sendable (_ tenant: Tenant, _ next: String, _ context: AppRequestContext) async throws -> [String: any Sendable]

/// Adds the routes of every sign-in method besides the password (`LoginController`) and of the identities a person
/// links: single sign-on, social sign-in, passkeys, email codes, link codes, sessions and linked accounts. Returns
/// what each method adds to the sign-in page. `transport` is the outbound transport under the outbound policy.
func addIdentityRoutes(runtime: LatchkeyRuntime, signIn: SignIn, groups: IdentityRouteGroups, transport: any HTTPTransport) -> [LoginPageOptions] {
    var options: [LoginPageOptions] = []
    let sso = SingleSignOn(runtime: runtime, transport: transport)
    let single = SingleSignOnController(sso: sso, signIn: signIn)
    single.addRoutes(web: groups.web, signedIn: groups.signedIn)
    SignInProvidersController(sso: sso, maxBodySize: runtime.configuration.maxBodySize).addRoutes(to: groups.api, recorder: groups.recorder)
    AdminSignInPagesController(sso: sso, sessions: signIn.sessions).addRoutes(to: groups.admin)
    options.append { tenant, next, _ in try await single.loginOptions(tenant: tenant, next: next) }
    return options
}

extension SingleSignOn {
    /// Single sign-on over the runtime's stores, calling providers through `transport`.
    init(runtime: LatchkeyRuntime, transport: any HTTPTransport) {
        let keys = JWKSCache(transport: transport, clock: runtime.clock)
        self.init(
            integrations: runtime.integrations,
            catalog: runtime.catalog,
            providers: SignInProviderRepository(database: runtime.database),
            oauth: OAuthClient(transport: transport, clock: runtime.clock),
            transport: transport,
            keys: keys,
            verifier: IDTokenVerifier(keys: keys, clock: runtime.clock),
            keyring: runtime.keyring,
            audit: runtime.audit,
            clock: runtime.clock,
            redirectURI: runtime.configuration.effectivePublicURL + Self.callbackPath,
            logger: runtime.logger
        )
    }
}
