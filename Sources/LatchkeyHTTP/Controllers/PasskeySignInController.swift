import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Sign-in with a passkey from the sign-in page: `POST /login/passkey/options` (the request options, JSON) and
/// `POST /login/passkey` (the assertion). Discoverable credentials, so no email is asked; the tenant is the page's.
/// Posts carry the sign-in form's CSRF token (bound to the browser). A refusal is a 400 (or 401) with an `error` the
/// script shows, audited as a failed `user.sign_in`; a counter that did not move forward is audited as a possible
/// cloned authenticator.
struct PasskeySignInController {
    let ceremonies: PasskeyCeremonies
    let signIn: SignIn

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let sessions = signIn.sessions
        let forms = group.group().add(
            middleware: CSRFMiddleware { context in
                String(sessions.browserBinding(context.browserID ?? "", purpose: "login-csrf").prefix(43))
            }
        )
        forms.post("login/passkey/options", use: options)
        forms.post("login/passkey", use: finish)
    }

    /// What the sign-in page's `login-passkey` partial reads.
    var loginPageOptions: LoginPageOptions {
        { _, _, _ in ["passkeySignIn": true, "ownScripts": true, "ownRequests": true] }
    }

    @Sendable func options(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let tenant = try await signIn.tenant(slug: form["tenant"])
        return try JSON.response(try await ceremonies.requestOptions(tenant: tenant))
    }

    /// Verifies the assertion and signs the person in; answers with the page to go to as JSON (`location`) and the
    /// session cookie, since the script, not the browser, follows it.
    @Sendable func finish(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let tenant = try await signIn.tenant(slug: form["tenant"])
        let next = WebResponse.safeNext(form["next"])
        let signedIn: PasskeyCeremonies.SignedIn
        do {
            signedIn = try await ceremonies.authenticate(form, tenant: tenant)
        } catch let failure as PasskeyCeremonies.Failure {
            try await signIn.refused(
                tenantID: tenant.id,
                userID: failure.userID,
                method: .passkey,
                reason: failure.reason,
                request: request,
                context: context
            )
            return try PasskeysPagesController.refusal(failure.message, status: failure.userID == nil ? .badRequest : .unauthorized)
        }
        let passkey = signedIn.passkey
        guard let user = try await signIn.tenants.users.user(id: passkey.userID, tenantID: tenant.id),
            let identity = try await signIn.identities.identity(id: passkey.identityID, tenantID: tenant.id)
        else {
            return try PasskeysPagesController.refusal("This passkey's account no longer exists. Ask your administrator.", status: .unauthorized)
        }
        let redirect = try await signIn.complete(user: user, method: .passkey, identity: identity, request: request, context: context, next: next)
        var response = try JSON.response(["location": redirect.headers[.location] ?? next])
        for cookie in redirect.headers[values: .setCookie] { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }
}
