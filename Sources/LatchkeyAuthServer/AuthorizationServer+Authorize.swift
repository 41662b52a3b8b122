import Foundation
import LatchkeyCore
public import LatchkeyStorage

extension AuthorizationServer {
    /// Checks a request to `/oauth/authorize`. An unknown client or redirect URI is an error page (never a
    /// redirect); everything after that is reported to the client's redirect URI with `state` and `iss`.
    public func check(_ request: AuthorizationRequest) async -> AuthorizationCheck {
        guard let clientID = request["client_id"], !clientID.isEmpty else {
            return .errorPage("The request does not name its application (client_id is missing). Start again from the application.")
        }
        let client: OAuthClientRecord
        do {
            guard let found = try await self.client(id: clientID) else {
                return .errorPage("This application is not registered here (unknown client_id). Start again from the application.")
            }
            client = found
        } catch let error as any LocalizedError {
            return .errorPage("The application's description could not be used: \(error.errorDescription ?? "unreadable").")
        } catch {
            return .errorPage("The application's description could not be read. Try again later.")
        }
        let redirect: String
        if let requested = request["redirect_uri"] {
            guard RedirectURIRules.match(requested, in: client.redirectURIs) != nil else {
                return .errorPage(
                    "The address this request would send you back to is not one the application registered (redirect_uri). Nothing was shared."
                )
            }
            redirect = requested
        } else if client.redirectURIs.count == 1 {
            redirect = client.redirectURIs[0]
        } else {
            return .errorPage("The request does not say where to send you back (redirect_uri is missing). Start again from the application.")
        }
        let state = request["state"]
        func fail(_ code: String, _ description: String) -> AuthorizationCheck {
            .redirect(errorRedirect(redirect, code: code, description: description, state: state))
        }
        guard request["response_type"] == "code" else {
            return fail("unsupported_response_type", "Only response_type=code is supported.")
        }
        guard let challenge = request["code_challenge"], !challenge.isEmpty else {
            return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.")
        }
        guard request["code_challenge_method"] == "S256" else {
            return fail("invalid_request", "Only code_challenge_method=S256 is supported.")
        }
        guard PKCE.isChallenge(challenge) else {
            return fail("invalid_request", "code_challenge must be 43 base64url characters (the S256 hash of the verifier).")
        }
        var resource = settings.resource
        if let requested = request["resource"] {
            guard let canonical = ResourceIndicator.canonical(requested, expected: settings.resource) else {
                return fail("invalid_target", "This server only issues tokens for \(settings.resource).")
            }
            resource = canonical
        }
        return .consent(
            ValidAuthorization(
                client: client,
                redirectURI: redirect,
                state: state,
                codeChallenge: challenge,
                resource: resource,
                scopes: ScopePolicy.narrow(request["scope"])
            )
        )
    }

    /// The person approved: records the grant (their services), issues a code and returns the redirect to the client.
    public func approve(_ authorization: ValidAuthorization, userID: String, services: [String], actor: AuditActor) async throws -> String {
        let now = clock.now
        let grant = try await grants.upsert(
            tenantID: tenantID,
            userID: userID,
            clientID: authorization.client.id,
            services: services,
            scopes: authorization.scopes,
            resource: authorization.resource,
            now: now
        )
        let code = SecureRandom.token(prefix: Self.codePrefix)
        try await tokens.insertCode(
            OAuthCodeRecord(
                codeHash: hash(code, .code),
                tenantID: tenantID,
                grantID: grant.id,
                clientID: authorization.client.id,
                userID: userID,
                redirectURI: authorization.redirectURI,
                codeChallenge: authorization.codeChallenge,
                resource: authorization.resource,
                scopes: authorization.scopes,
                status: ExchangeStatus.pending.rawValue,
                createdAt: now,
                expiresAt: now.addingTimeInterval(settings.codeLifetime)
            )
        )
        if authorization.client.kind != .document { try await clients.touch(id: authorization.client.id, at: now) }
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "oauth.consent",
                target: grant.id,
                details: [
                    "client_id": authorization.client.id, "services": services.joined(separator: " "),
                    "scopes": authorization.scopes.joined(separator: " "),
                ]
            ),
            tenantID: tenantID
        )
        var parameters = [("code", code)]
        if let state = authorization.state { parameters.append(("state", state)) }
        parameters.append(("iss", settings.issuer))
        return RedirectURIRules.adding(parameters, to: authorization.redirectURI)
    }

    /// The person said no: the redirect to the client with `error=access_denied`.
    public func deny(_ authorization: ValidAuthorization, actor: AuditActor) async throws -> String {
        try await audit.append(
            AuditRecord(actor: actor, action: "oauth.consent", target: authorization.client.id, result: .failure, details: ["reason": "denied"]),
            tenantID: tenantID
        )
        return errorRedirect(
            authorization.redirectURI,
            code: "access_denied",
            description: "The person denied the request.",
            state: authorization.state
        )
    }

    func errorRedirect(_ redirect: String, code: String, description: String, state: String?) -> String {
        var parameters = [("error", code), ("error_description", description)]
        if let state { parameters.append(("state", state)) }
        parameters.append(("iss", settings.issuer))
        return RedirectURIRules.adding(parameters, to: redirect)
    }
}
