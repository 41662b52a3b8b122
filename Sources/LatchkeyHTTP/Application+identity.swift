import Foundation
import Hummingbird
import LatchkeyAuthServer
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
    /// The authorization server of `/mcp`: signing out everywhere revokes the applications a person authorized.
    var authorizationServer: AuthorizationServer? = nil
}

/// Values a sign-in method adds to the sign-in page for its partial (`login-passkey`, `login-single-sign-on`,
/// `login-email-code`): for the tenant whose page it is and the `next` path the person goes on to.
typealias LoginPageOptions = @Sendable (_ tenant: Tenant, _ next: String, _ context: AppRequestContext) async throws -> [String: any Sendable]

/// Every way of signing in, the password included, and a person's identities: their routes, and the sign-in page
/// (`LoginController`) that offers them.
func addSignInRoutes(runtime: LatchkeyRuntime, sessions: WebSessions, groups: IdentityRouteGroups, transport: any HTTPTransport) {
    let signIn = SignIn(
        tenants: runtime.tenants,
        defaultTenant: runtime.defaultTenant,
        sessions: sessions,
        identities: IdentityRepository(database: runtime.database),
        audit: runtime.audit,
        clock: runtime.clock,
        secureCookies: runtime.configuration.secureCookies
    )
    let options = addIdentityRoutes(runtime: runtime, signIn: signIn, groups: groups, transport: transport)
    var login = LoginController(
        signIn: signIn,
        throttle: LoginThrottle(store: runtime.loginAttempts, keyring: runtime.keyring, clock: runtime.clock),
        options: options
    )
    login.authorizationServer = groups.authorizationServer
    login.twoFactor = twoFactor(runtime: runtime, signIn: signIn)
    login.addRoutes(to: groups.web)
}

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
    if let passkeys = passkeyCeremonies(runtime: runtime) {
        PasskeysScript.addRoutes(to: groups.web)
        PasskeysPagesController(ceremonies: passkeys, identities: signIn.identities, sessions: signIn.sessions, audit: runtime.audit)
            .addRoutes(to: groups.signedIn)
        let passkeySignIn = PasskeySignInController(ceremonies: passkeys, signIn: signIn)
        passkeySignIn.addRoutes(to: groups.web)
        options.append(passkeySignIn.loginPageOptions)
    }
    if let smtp = runtime.configuration.smtp {
        let emailCodes = EmailCodeController(
            signIn: signIn,
            codes: EmailCodes(database: runtime.database, keyring: runtime.keyring, clock: runtime.clock),
            mailer: EmailCodeMailer(
                client: SMTPClient(settings: smtp),
                siteName: "Latchkey (\(runtime.configuration.effectivePublicURL))",
                clock: runtime.clock,
                logger: runtime.logger
            )
        )
        emailCodes.addRoutes(to: groups.web)
        options.append(emailCodes.loginOption)
    }
    twoFactor(runtime: runtime, signIn: signIn).addRoutes(web: groups.web, signedIn: groups.signedIn)
    // Link codes: an app asks who its user is; the person types the code on /link.
    let appIdentities = AppIdentities(runtime: runtime)
    IdentityResolveController(identities: appIdentities, maxBodySize: runtime.configuration.maxBodySize)
        .addRoutes(to: groups.appKeyed, recorder: groups.recorder)
    LinkPagesController(identities: appIdentities, sessions: signIn.sessions, attempts: runtime.loginAttempts)
        .addRoutes(web: groups.web, signedIn: groups.signedIn)
    // A person's sessions and the ways they sign in, under Settings.
    SessionsSettingsController(
        sessions: signIn.sessions,
        audit: runtime.audit,
        authorizationServer: groups.authorizationServer,
        secureCookies: signIn.secureCookies
    ).addRoutes(to: groups.signedIn)
    var linkedAccounts = IdentitiesSettingsController(
        identities: signIn.identities,
        apps: AppRepository(database: runtime.database),
        integrations: IntegrationRepository(database: runtime.database),
        sessions: signIn.sessions,
        audit: runtime.audit
    )
    linkedAccounts.signInProviders = { tenantID in try await sso.enabled(tenantID: tenantID).map { ($0.integration.key, $0.name) } }
    linkedAccounts.addRoutes(to: groups.signedIn)
    SettingsOverviewController(sessions: signIn.sessions).addRoutes(to: groups.signedIn)
    return options
}

/// Passkeys for the public URL's host; nil when the public URL has no host name to be a relying party.
private func passkeyCeremonies(runtime: LatchkeyRuntime) -> PasskeyCeremonies? {
    guard let url = URL(string: runtime.configuration.effectivePublicURL), let relyingParty = WebAuthnRelyingParty(publicURL: url) else { return nil }
    return PasskeyCeremonies(
        relyingParty: relyingParty,
        passkeys: PasskeyRepository(database: runtime.database),
        challenges: WebAuthnChallengeRepository(database: runtime.database, clock: runtime.clock),
        clock: runtime.clock
    )
}

/// The TOTP second factor: its pages, and the step `LoginController` hands a password sign-in to.
func twoFactor(runtime: LatchkeyRuntime, signIn: SignIn) -> TwoFactorController {
    var controller = TwoFactorController(
        signIn: signIn,
        secrets: TwoFactorSecrets(database: runtime.database, keyring: runtime.keyring, clock: runtime.clock)
    )
    controller.attempts = runtime.loginAttempts
    return controller
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
