import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyStorage
import NIOCore

/// The machine-facing OAuth endpoints: `POST /oauth/register` (RFC 7591), `/oauth/token`, `/oauth/revoke`
/// (RFC 7009) and `/oauth/introspect` (RFC 7662, for an admin or app key). Registration is limited per client address,
/// the token endpoint per client and address.
struct OAuthEndpointsController {
    let server: AuthorizationServer
    let registerLimit: OAuthRateLimiter
    let tokenLimit: OAuthRateLimiter
    /// The largest registration or token request body.
    static let maxBody = 16 * 1024

    func addRoutes(to router: Router<AppRequestContext>, introspection: RouterGroup<CallerContext>) {
        router.post("oauth/register", use: register)
        router.post("oauth/token", use: token)
        router.post("oauth/revoke", use: revoke)
        introspection.post("introspect", use: introspect)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let wait = registerLimit.retryAfter("register|\(context.remoteAddress ?? "")") { return OAuthResponse.tooMany(retryAfter: wait) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBody)
        } catch {
            return OAuthResponse.error(.invalidClientMetadata("The registration is larger than \(Self.maxBody / 1024) KiB."))
        }
        let parsed: ClientRegistrationRequest
        do {
            parsed = try JSONDecoder().decode(ClientRegistrationRequest.self, from: Data(body.readableBytesView))
        } catch {
            return OAuthResponse.error(.invalidClientMetadata("The body must be a JSON object of client metadata (RFC 7591)."))
        }
        do {
            let registration = try await server.register(parsed, actor: actor(request, context, id: "oauth_registration"))
            let client = registration.client
            var document: [String: any Sendable] = [
                "client_id": client.id,
                "client_id_issued_at": Int(client.createdAt.timeIntervalSince1970),
                "redirect_uris": client.redirectURIs,
                "token_endpoint_auth_method": client.authMethod,
                "grant_types": (try? parsed.validated().grantTypes) ?? ["authorization_code"],
                "response_types": ["code"],
                "application_type": client.applicationType,
            ]
            if let name = client.name { document["client_name"] = name }
            if let uri = client.clientURI { document["client_uri"] = uri }
            if let uri = client.logoURI { document["logo_uri"] = uri }
            if let secret = registration.clientSecret {
                document["client_secret"] = secret
                document["client_secret_expires_at"] = 0
            }
            return try OAuthResponse.object(document, status: .created)
        } catch let error as OAuthError {
            return OAuthResponse.error(error)
        }
    }

    @Sendable func token(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request, limit: Self.maxBody)
        let credentials: ClientCredentials?
        do {
            credentials = try Self.credentials(request, form: form)
        } catch let error as OAuthError {
            return OAuthResponse.error(error)
        }
        let key = "token|\(credentials?.clientID.prefix(200) ?? "")|\(context.remoteAddress ?? "")"
        if let wait = tokenLimit.retryAfter(key) { return OAuthResponse.tooMany(retryAfter: wait) }
        do {
            let issued = try await server.token(form.fields, credentials: credentials, actor: actor(request, context, id: credentials?.clientID))
            return try OAuthResponse.json(issued)
        } catch let error as OAuthError {
            return OAuthResponse.error(error, basicChallenge: credentials?.basic == true)
        }
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request, limit: Self.maxBody)
        do {
            let credentials = try Self.credentials(request, form: form)
            let client = try await server.authenticate(credentials)
            guard let token = form["token"], !token.isEmpty else { throw OAuthError.invalidRequest("token is missing.") }
            try await server.revoke(token: token, client: client, actor: actor(request, context, id: client.id))
            return try OAuthResponse.object([:])
        } catch let error as OAuthError {
            return OAuthResponse.error(error)
        }
    }

    @Sendable func introspect(_ request: Request, context: CallerContext) async throws -> Response {
        let form = try await WebForm.read(request, limit: Self.maxBody)
        guard let token = form["token"], !token.isEmpty else { return OAuthResponse.error(.invalidRequest("token is missing.")) }
        // A key of another tenant learns nothing about this tenant's tokens.
        guard context.tenantID == server.tenantID else { return try OAuthResponse.object(["active": false]) }
        return try OAuthResponse.object(try await server.introspect(token: token))
    }

    /// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, form-encoded id and secret) or the form's
    /// `client_id` and `client_secret`; both at once is refused.
    static func credentials(_ request: Request, form: WebForm) throws -> ClientCredentials? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            guard form["client_secret"] == nil,
                let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { throw OAuthError.invalidClient("The Basic authorization header is not valid.") }
            let id = String(text[..<colon]).removingPercentEncoding ?? ""
            let secret = String(text[text.index(after: colon)...]).removingPercentEncoding ?? ""
            if let formID = form["client_id"], formID != id { throw OAuthError.invalidRequest("client_id differs from the authenticated client.") }
            return ClientCredentials(clientID: id, secret: secret, basic: true)
        }
        guard let id = form["client_id"] else { return nil }
        return ClientCredentials(clientID: id, secret: form["client_secret"], basic: false)
    }

    private func actor(_ request: Request, _ context: AppRequestContext, id: String?) -> AuditActor {
        AuditActor(
            id: "oauth_client:\(id?.prefix(200) ?? "unknown")",
            ip: context.remoteAddress,
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }
        )
    }
}
