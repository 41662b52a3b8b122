import Foundation
public import LatchkeyCore
public import LatchkeyProviders

/// The result of a revocation request.
public enum RevocationResult: Sendable, Equatable {
    /// The provider accepted the revocation (or the token was already dead).
    case revoked
    /// Neither the catalog nor the integration names a revocation endpoint.
    case notSupported
}

/// Talks OAuth 2.0 to providers: code exchange, refresh, revocation, identity, discovery, static credential checks.
///
/// Stateless; every call goes through the injected ``HTTPTransport``. Nothing secret is logged or put in an error.
public struct OAuthClient: Sendable {
    let transport: any HTTPTransport
    let clock: any LatchkeyClock

    public init(transport: any HTTPTransport, clock: any LatchkeyClock) {
        self.transport = transport
        self.clock = clock
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3). When the answer has an id_token, its `iss` (when the
    /// endpoints know the issuer), `aud` (the client id) and `nonce` (when `nonce` is given) are checked.
    public func exchangeCode(
        provider: Provider,
        endpoints: OAuthEndpoints,
        client: OAuthClientCredentials,
        code: String,
        redirectURI: String,
        codeVerifier: String?,
        nonce: String? = nil
    ) async throws(OAuthClientError) -> TokenSet {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let codeVerifier { fields.append(("code_verifier", codeVerifier)) }
        let secrets = [code, codeVerifier ?? "", client.clientSecret ?? ""]
        let tokens = try await tokenRequest(provider: provider, endpoints: endpoints, client: client, fields: fields, secrets: secrets)
        if let idToken = tokens.idToken {
            let claims = try IDTokenClaims.decode(idToken)
            try claims.check(issuer: endpoints.issuer, clientID: client.clientID, nonce: nonce)
        }
        return tokens
    }

    /// Uses a refresh token (RFC 6749 §6). When the answer carries no new refresh token, the one given is kept in
    /// the result, so the caller can always store `refreshToken` as it comes back.
    public func refresh(
        provider: Provider,
        endpoints: OAuthEndpoints,
        client: OAuthClientCredentials,
        refreshToken: String,
        scopes: [String]?
    ) async throws(OAuthClientError) -> TokenSet {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let scopes, !scopes.isEmpty { fields.append(("scope", scopes.joined(separator: provider.oauth?.scopeSeparator ?? " "))) }
        let secrets = [refreshToken, client.clientSecret ?? ""]
        var tokens = try await tokenRequest(provider: provider, endpoints: endpoints, client: client, fields: fields, secrets: secrets)
        if tokens.refreshToken == nil { tokens.refreshToken = refreshToken }
        return tokens
    }

    /// Best-effort revocation in the provider's style (``RevocationStyle``): RFC 7009 by default, the token as bearer
    /// credential (Slack, Dropbox, Strava), or deletion of the grant (GitHub). `.notSupported` when there is no endpoint.
    public func revoke(
        provider: Provider,
        endpoints: OAuthEndpoints,
        client: OAuthClientCredentials,
        token: String,
        tokenTypeHint: String?
    ) async throws(OAuthClientError) -> RevocationResult {
        guard var url = endpoints.revocationURL else { return .notSupported }
        let style = provider.oauth?.revocationStyle ?? .rfc7009
        var request: OutboundRequest
        switch style {
        case .rfc7009:
            var fields = [("token", token)]
            if let tokenTypeHint { fields.append(("token_type_hint", tokenTypeHint)) }
            request = OutboundRequest(method: "POST", url: url)
            Self.authenticate(&request, fields: &fields, client: client)
            request.headers.append((name: "Content-Type", value: "application/x-www-form-urlencoded"))
            request.body = FormEncoding.encode(fields)
        case .bearer:
            request = OutboundRequest(method: "POST", url: url, headers: [(name: "Authorization", value: "Bearer \(token)")])
        case .deleteGrant:
            let clientID = client.clientID.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? ""
            if let filled = URL(string: url.absoluteString.replacingOccurrences(of: EndpointResolver.clientIDPlaceholder, with: clientID)) {
                url = filled
            }
            let credentials = Data("\(client.clientID):\(client.clientSecret ?? "")".utf8).base64EncodedString()
            let body = JSONValue.object(["access_token": .string(token)]).jsonText
            request = OutboundRequest(
                method: "DELETE",
                url: url,
                headers: [
                    (name: "Authorization", value: "Basic \(credentials)"), (name: "Content-Type", value: "application/json"),
                    (name: "Accept", value: "application/vnd.github+json"),
                ],
                body: Data(body.utf8)
            )
        }
        if request.header("Accept") == nil { request.headers.append((name: "Accept", value: "application/json")) }
        let response = try await send(request)
        let parser = TokenResponseParser(oauth: provider.oauth, now: clock.now, secrets: [token, client.clientSecret ?? ""])
        if let document = TokenResponseParser.document(response), let error = parser.providerError(in: document, status: response.status) {
            // Slack and others say so when the token is already gone: the revocation has nothing left to do.
            if case .providerError(let code, _) = error.kind, ["invalid_auth", "token_revoked", "not_authed"].contains(code) { return .revoked }
            throw error
        }
        switch response.status {
        case 200...299: return .revoked
        case 401 where style == .bearer: return .revoked
        case 404 where style == .deleteGrant: return .revoked
        default:
            throw .unexpectedStatus(response.status, retryAfter: response.header("Retry-After").flatMap { Int($0) })
        }
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    // MARK: - Token endpoint

    private func tokenRequest(
        provider: Provider,
        endpoints: OAuthEndpoints,
        client: OAuthClientCredentials,
        fields: [(String, String)],
        secrets: [String]
    ) async throws(OAuthClientError) -> TokenSet {
        var fields = fields
        var request = OutboundRequest(method: "POST", url: endpoints.tokenURL)
        Self.authenticate(&request, fields: &fields, client: client)
        let ours = Set(fields.map(\.0))
        for (name, value) in (provider.oauth?.tokenParams ?? [:]).sorted(by: { $0.key < $1.key }) where !ours.contains(name) {
            fields.append((name, value))
        }
        var headers: [(name: String, value: String)] = [
            (name: "Content-Type", value: "application/x-www-form-urlencoded"), (name: "Accept", value: "application/json"),
        ]
        for (name, value) in (provider.oauth?.tokenRequestHeaders ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            headers.append((name: name, value: value))
        }
        request.headers.append(contentsOf: headers)
        request.body = FormEncoding.encode(fields)
        let response = try await send(request)
        return try TokenResponseParser(oauth: provider.oauth, now: clock.now, secrets: secrets).parse(response)
    }

    /// Client authentication (RFC 6749 §2.3.1): HTTP basic with the form-encoded id and secret, or both in the body.
    /// A public client (no secret) sends its id in the body.
    static func authenticate(_ request: inout OutboundRequest, fields: inout [(String, String)], client: OAuthClientCredentials) {
        guard let secret = client.clientSecret, !secret.isEmpty else {
            fields.append(("client_id", client.clientID))
            return
        }
        switch client.method {
        case .clientSecretBasic:
            let pair = "\(FormEncoding.encode(client.clientID)):\(FormEncoding.encode(secret))"
            request.headers.append((name: "Authorization", value: "Basic \(Data(pair.utf8).base64EncodedString())"))
        case .clientSecretPost:
            fields.append(("client_id", client.clientID))
            fields.append(("client_secret", secret))
        }
    }

    func send(_ request: OutboundRequest) async throws(OAuthClientError) -> OutboundResponse {
        let response: OutboundResponse
        do {
            response = try await transport.send(request)
        } catch let error as OutboundError {
            throw .transport(error)
        } catch {
            throw .transport(.unreachable(host: request.url.host ?? "unknown host"))
        }
        guard response.body.count <= TokenResponseParser.maxBodyBytes else {
            throw .transport(.responseTooLarge(host: request.url.host ?? "unknown host", limit: TokenResponseParser.maxBodyBytes))
        }
        return response
    }
}
