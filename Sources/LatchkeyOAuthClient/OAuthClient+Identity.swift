public import Foundation
import LatchkeyCore
public import LatchkeyProviders

/// Who a credential belongs to at the provider.
public struct AccountIdentity: Sendable, Equatable, Codable {
    /// The provider's stable account id (numbers as text).
    public var id: String
    public var email: String?
    public var name: String?

    public init(id: String, email: String? = nil, name: String? = nil) {
        self.id = id
        self.email = email
        self.name = name
    }

    /// What to show a person: the e-mail, else the name, else the id.
    public var display: String { email ?? name ?? id }
}

extension OAuthClient {
    /// Reads the account identity: the provider's `identity` spec (relative to `endpoints.apiBaseURL` or absolute,
    /// GET or POST with its body, dotted id/email/name fields; numeric ids become text), else the userInfoURL
    /// (`sub`, `email`, `name` or `preferred_username`), else the id_token's claims; nil when there is no way to tell.
    public func fetchIdentity(provider: Provider, endpoints: OAuthEndpoints, tokens: TokenSet) async throws(OAuthClientError) -> AccountIdentity? {
        if let spec = provider.identity, let url = endpoints.apiURL(spec.endpoint) {
            let document = try await authorizedJSON(provider: provider, method: spec.method ?? "GET", url: url, body: spec.body, tokens: tokens)
            guard let id = document.value(at: spec.idField)?.scalarString, !id.isEmpty else {
                throw .malformedResponse("the account answer has no \(spec.idField)")
            }
            return AccountIdentity(
                id: id,
                email: spec.emailField.flatMap { document.value(at: $0)?.nonEmptyScalar },
                name: spec.nameField.flatMap { document.value(at: $0)?.nonEmptyScalar }
            )
        }
        if let url = endpoints.userInfoURL {
            let document = try await authorizedJSON(provider: provider, method: "GET", url: url, body: nil, tokens: tokens)
            guard let id = document["sub"]?.nonEmptyScalar ?? document["id"]?.nonEmptyScalar else {
                throw .malformedResponse("the user-info answer has no sub")
            }
            return AccountIdentity(
                id: id,
                email: document["email"]?.nonEmptyScalar,
                name: document["name"]?.nonEmptyScalar ?? document["preferred_username"]?.nonEmptyScalar
            )
        }
        if let idToken = tokens.idToken {
            let claims = try IDTokenClaims.decode(idToken)
            guard let subject = claims.subject, !subject.isEmpty else { return nil }
            return AccountIdentity(id: subject, email: claims.email, name: claims.name ?? claims.preferredUsername)
        }
        return nil
    }

    /// Reads an OpenID Connect discovery document. Its `issuer` must be the discovery URL without
    /// `/.well-known/openid-configuration` (OpenID Connect Discovery §4.3).
    public func discover(discoveryURL: URL) async throws(OAuthClientError) -> OIDCDiscovery {
        let response = try await send(OutboundRequest(method: "GET", url: discoveryURL, headers: [(name: "Accept", value: "application/json")]))
        guard (200...299).contains(response.status) else {
            throw .unexpectedStatus(response.status, retryAfter: response.header("Retry-After").flatMap { Int($0) })
        }
        guard let document = JSONValue.parse(response.body), case .object = document else {
            throw .malformedResponse("the discovery document is not JSON", status: response.status)
        }
        return try OIDCDiscovery(document: document, discoveryURL: discoveryURL)
    }

    /// Checks an API key or basic secret with the provider's probe; false when the provider answers 401 or 403,
    /// true on the expected status. Throws on transport errors and other answers.
    public func checkStaticCredential(
        provider: Provider,
        apiKey: String?,
        username: String?,
        password: String?
    ) async throws(OAuthClientError) -> Bool {
        guard let probe = provider.probe else { throw .missingSetting("probe") }
        guard let settings = provider.apiKey else { throw .missingSetting("apiKey") }
        let base = provider.proxyBaseURL.flatMap { URL(string: $0) }
        guard
            let url = OAuthEndpoints(authorizationURL: base ?? Self.placeholderURL, tokenURL: Self.placeholderURL, apiBaseURL: base).apiURL(
                probe.path
            )
        else { throw .missingSetting("proxyBaseURL") }
        var headers: [(name: String, value: String)] = [(name: "Accept", value: "application/json")]
        switch settings.scheme {
        case .header:
            guard let apiKey, !apiKey.isEmpty else { throw .missingSetting("apiKey") }
            headers.append(
                (
                    name: settings.headerName ?? "Authorization",
                    value: (settings.format ?? "Bearer {apiKey}").replacingOccurrences(of: "{apiKey}", with: apiKey)
                )
            )
        case .basic:
            guard let username, let password else { throw .missingSetting(username == nil ? "username" : "password") }
            headers.append((name: "Authorization", value: "Basic \(Data("\(username):\(password)".utf8).base64EncodedString())"))
        }
        headers.append(contentsOf: (provider.requestHeaders ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
        var body: Data?
        if let text = probe.body {
            body = Data(text.utf8)
            headers.append((name: "Content-Type", value: "application/json"))
        }
        let response = try await send(OutboundRequest(method: probe.method, url: url, headers: headers, body: body))
        if response.status == 401 || response.status == 403 { return false }
        if response.status == probe.expectStatus { return true }
        throw .unexpectedStatus(response.status, retryAfter: response.header("Retry-After").flatMap { Int($0) })
    }

    private static let placeholderURL = URL(string: "https://invalid.invalid/")!

    /// A JSON object from an API call made with the access token, in the provider's header format.
    private func authorizedJSON(
        provider: Provider,
        method: String,
        url: URL,
        body: String?,
        tokens: TokenSet
    ) async throws(OAuthClientError) -> JSONValue {
        let header = provider.oauth?.accessTokenHeader ?? "Authorization"
        let format = provider.oauth?.accessTokenFormat ?? "Bearer {accessToken}"
        var headers: [(name: String, value: String)] = [
            (name: header, value: format.replacingOccurrences(of: "{accessToken}", with: tokens.accessToken)),
            (name: "Accept", value: "application/json"),
        ]
        headers.append(contentsOf: (provider.requestHeaders ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
        var data: Data?
        if let body {
            data = Data(body.utf8)
            headers.append((name: "Content-Type", value: "application/json"))
        }
        let response = try await send(OutboundRequest(method: method, url: url, headers: headers, body: data))
        let parser = TokenResponseParser(oauth: provider.oauth, now: clock.now, secrets: [tokens.accessToken])
        let document = TokenResponseParser.document(response)
        if let document, let error = parser.providerError(in: document, status: response.status) { throw error }
        guard (200...299).contains(response.status) else {
            throw .unexpectedStatus(response.status, retryAfter: response.header("Retry-After").flatMap { Int($0) })
        }
        guard let document else { throw .malformedResponse("the account answer is not JSON", status: response.status) }
        return document
    }
}

extension JSONValue {
    var nonEmptyScalar: String? {
        guard let text = scalarString, !text.isEmpty else { return nil }
        return text
    }
}
