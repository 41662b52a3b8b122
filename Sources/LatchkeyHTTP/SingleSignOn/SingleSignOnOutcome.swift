import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyStorage

/// What a provider's answer leads to: signing in the person who has this identity, adding it to the person who asked
/// to link it, creating an account just in time where the administrator allows it, or a page saying why not.
struct SingleSignOnOutcome {
    let sso: SingleSignOn
    let signIn: SignIn
    let request: Request
    let context: AppRequestContext
    let flow: SignInFlow
    /// Where the failure pages lead back to.
    let back: String

    /// The provider answered with an error instead of a code (`access_denied` when the person declined).
    func providerError(_ code: String) async throws -> Response {
        let name = (try? await sso.candidate(key: flow.integrationKey, tenantID: flow.tenantID))?.name ?? "the provider"
        let reason = String(code.prefix(64).filter { $0.isLetter || $0 == "_" })
        try await refuse(userID: flow.linkUserID, method: .oidc, reason: "provider_\(reason)")
        let message =
            reason == "access_denied"
            ? "You did not allow \(name) to sign you in here. Start again if that was a mistake."
            : "\(name) could not sign you in (\(reason.isEmpty ? "error" : reason)). Start again, or ask your administrator."
        return SingleSignOnController.failurePage("Sign-in cancelled", message, back: back, status: .badRequest)
    }

    func finish(code: String, state: String, issuer: String?) async throws -> Response {
        let candidate: SingleSignOn.Candidate
        do {
            candidate = try await sso.candidate(key: flow.integrationKey, tenantID: flow.tenantID)
        } catch let error as LatchkeyError {
            return SingleSignOnController.failurePage("Single sign-on is not available", error.message, back: back)
        }
        if let expected = candidate.endpoints.issuer, let issuer, issuer != expected {
            try await refuse(userID: flow.linkUserID, method: candidate.method, reason: "issuer_mismatch")
            return SingleSignOnController.failurePage(
                "Sign-in failed",
                "The answer did not come from \(candidate.name). Start signing in again.",
                back: back
            )
        }
        let person: SingleSignOn.Person
        do {
            person = try await sso.person(candidate, flow: flow, code: code, state: state)
        } catch let failure as SignInFailure {
            try await refuse(userID: flow.linkUserID, method: candidate.method, reason: failure.reason)
            return SingleSignOnController.failurePage("Sign-in failed", failure.message, back: back)
        }
        let identities = signIn.identities
        let known = try await identities.identity(provider: person.provider, subject: person.subject, tenantID: flow.tenantID)
        if let linkUserID = flow.linkUserID { return try await link(person, candidate: candidate, to: linkUserID, known: known) }
        if let known, let user = try await signIn.tenants.users.user(id: known.userID, tenantID: flow.tenantID) {
            return try await signIn.complete(
                user: user,
                method: candidate.method,
                identity: known,
                request: request,
                context: context,
                next: flow.next
            )
        }
        return try await unknown(person, candidate: candidate)
    }

    /// A signed-in person adds the provider's identity to their account; only the same STRONG session that started it.
    private func link(
        _ person: SingleSignOn.Person,
        candidate: SingleSignOn.Candidate,
        to userID: String,
        known: Identity?
    ) async throws
        -> Response
    {
        guard let session = context.webSession, session.user.id == userID, session.strength == .strong else {
            return SingleSignOnController.failurePage(
                "Sign in first",
                "Linking \(candidate.name) needs you signed in as the person who started it. Sign in and link it again from Settings.",
                back: "/login?next=/settings/identities",
                status: .forbidden
            )
        }
        if let known {
            let message =
                known.userID == userID
                ? "\(candidate.name) is already linked to your account."
                : "This \(candidate.name) account is already linked to another person."
            return WebResponse.redirect(to: "/settings/identities", flash: message)
        }
        let identity = Identity(
            id: "idn_" + NewID.make(),
            tenantID: flow.tenantID,
            userID: userID,
            method: candidate.method,
            provider: person.provider,
            subject: person.subject,
            displayName: person.email ?? person.name ?? candidate.name,
            email: person.email,
            createdAt: sso.clock.now
        )
        do {
            try await signIn.identities.insert(identity)
        } catch let error as LatchkeyError where error.code == .conflict {
            return WebResponse.redirect(to: "/settings/identities", flash: error.message)
        }
        try await signIn.audit.append(
            AuditRecord(
                actor: actor(userID: userID),
                action: "identity.link",
                target: userID,
                details: [
                    "method": candidate.method.rawValue, "provider": String(person.provider.prefix(200)), "integration": candidate.integration.key,
                ]
            ),
            tenantID: flow.tenantID
        )
        return WebResponse.redirect(to: "/settings/identities", flash: "\(candidate.name) linked. You can now sign in with it.")
    }

    /// Nobody here has this identity: create the person just in time when allowed, else say who to ask.
    private func unknown(_ person: SingleSignOn.Person, candidate: SingleSignOn.Candidate) async throws -> Response {
        let settings = try await sso.providers.settings(integrationKey: candidate.integration.key, tenantID: flow.tenantID)
        let shown = person.email ?? person.name ?? "this \(candidate.name) account"
        guard let settings, settings.enabled, settings.createUsers, let email = person.email, person.emailVerified, settings.allows(email: email)
        else {
            try await refuse(userID: nil, method: candidate.method, reason: "unknown_identity")
            var message = "There is no account here for \(shown). Ask your administrator to add you"
            if let settings, settings.createUsers, person.email == nil || !person.emailVerified {
                message = "\(candidate.name) did not confirm an email address for \(shown), so no account is created for it. Ask your administrator"
            }
            return SingleSignOnController.failurePage("No account here", message + ".", back: back, status: .forbidden)
        }
        if try await signIn.tenants.users.user(email: email, tenantID: flow.tenantID) != nil {
            try await refuse(userID: nil, method: candidate.method, reason: "email_in_use")
            return SingleSignOnController.failurePage(
                "Sign in the usual way first",
                "An account for \(email) already exists. Sign in the way you usually do, then link \(candidate.name) under Settings → "
                    + "Linked accounts to use it from then on.",
                back: back,
                status: .conflict
            )
        }
        let now = sso.clock.now
        let user = User(
            id: NewID.make(),
            tenantID: flow.tenantID,
            email: email,
            displayName: String((person.name ?? email).prefix(200)),
            isAdmin: false,
            createdAt: now
        )
        let identity = Identity(
            id: "idn_" + NewID.make(),
            tenantID: flow.tenantID,
            userID: user.id,
            method: candidate.method,
            provider: person.provider,
            subject: person.subject,
            displayName: email,
            email: email,
            createdAt: now
        )
        do {
            try await sso.providers.createUser(user, identity: identity, audit: signIn.audit, actor: actor(userID: user.id))
        } catch let error as LatchkeyError where error.code == .conflict {
            return SingleSignOnController.failurePage("Sign-in failed", error.message, back: back, status: .conflict)
        }
        return try await signIn.complete(
            user: user,
            method: candidate.method,
            identity: identity,
            request: request,
            context: context,
            next: flow.next
        )
    }

    private func refuse(userID: String?, method: SignInMethod, reason: String) async throws {
        try await signIn.refused(tenantID: flow.tenantID, userID: userID, method: method, reason: reason, request: request, context: context)
    }

    private func actor(userID: String) -> AuditActor {
        AuditActor(id: "user:\(userID)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
