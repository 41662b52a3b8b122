public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders

/// A fake OAuth provider, in process, that plays a real catalog entry's quirks: its token shape (`tokenPath`,
/// scope separator, expiry format, refresh tokens, rotation), its client authentication, its revocation style, its
/// identity answer and its probe. Use it as the ``HTTPTransport`` of an ``OAuthClient``, alone or in a ``FakeNetwork``.
///
/// Quirks that the catalog does not model come from ``Quirks/of(_:)``: Slack's `ok: false` errors, GitHub's
/// form-encoded answers and HTTP 200 errors.
public actor FakeProvider: HTTPTransport {
    /// A misbehaviour for the next token endpoint answer.
    public enum Override: Sendable, Equatable {
        /// This status, body and content type, whatever was asked.
        case status(Int, body: String, contentType: String)
        /// An HTML error page with status 200.
        case html
        /// A JSON body over 1 MiB.
        case oversized
        /// A well-formed answer without an access token.
        case noAccessToken
        /// The expiry field set to this raw JSON text (`"0"`, `"-5"`, `"\"abc\""`, `"\"3600\""`).
        case expiresIn(String)
        /// The request throws ``OutboundError/unreachable(host:)``.
        case unreachable
        /// The normal answer, form-encoded (as GitHub sends without `Accept: application/json`).
        case formEncoded
        /// An OAuth error with this code, in the provider's error style.
        case error(String)
    }

    /// Behaviour of real providers that the catalog does not describe.
    public struct Quirks: Sendable, Equatable {
        /// Errors come as HTTP 200 `{"ok": false, "error": …}` and successes carry `"ok": true` (Slack).
        public var okFalseErrors: Bool
        /// Token endpoint errors come with HTTP 200 (GitHub).
        public var errorsWithHTTP200: Bool
        /// The token answer is form-encoded unless the request accepts JSON (GitHub).
        public var formEncodedUnlessJSONAccepted: Bool

        public init(okFalseErrors: Bool = false, errorsWithHTTP200: Bool = false, formEncodedUnlessJSONAccepted: Bool = false) {
            self.okFalseErrors = okFalseErrors
            self.errorsWithHTTP200 = errorsWithHTTP200
            self.formEncodedUnlessJSONAccepted = formEncodedUnlessJSONAccepted
        }

        /// The known quirks of a catalog provider.
        public static func of(_ provider: Provider) -> Quirks {
            switch provider.id {
            case "slack": Quirks(okFalseErrors: true)
            case "github": Quirks(errorsWithHTTP200: true, formEncodedUnlessJSONAccepted: true)
            default: Quirks()
            }
        }
    }

    /// The person who approves at the fake.
    public struct Account: Sendable, Equatable {
        public var id: String
        public var email: String?
        public var name: String?

        public init(id: String, email: String? = nil, name: String? = nil) {
            self.id = id
            self.email = email
            self.name = name
        }
    }

    /// Why ``authorize(url:approve:accountID:email:name:)`` refused a request, as the provider's error page would.
    public struct AuthorizationError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    struct Grant {
        var account: Account
        var scopes: [String]
        var redirectURI: String
        var challenge: String?
        var nonce: String?
    }

    struct Session {
        var account: Account
        var scopes: [String]
        var family: Int
    }

    public nonisolated let provider: Provider
    public nonisolated let endpoints: OAuthEndpoints
    public nonisolated let clientID: String
    public nonisolated let clientSecret: String?
    /// Sent as `iss` on redirects and in id_tokens when set.
    public nonisolated let issuer: String?
    public nonisolated let quirks: Quirks
    /// Every host the fake answers for.
    public nonisolated let hosts: Set<String>
    /// The API key (or basic password) the probe accepts.
    public nonisolated let apiKey: String
    /// The basic user name the probe accepts.
    public nonisolated let username: String
    /// Lifetime of access tokens, in seconds.
    public nonisolated let lifetime: Int
    let clock: any LatchkeyClock

    /// Every request received, in order.
    public private(set) var requests: [OutboundRequest] = []
    /// How many refresh grants were answered with tokens.
    public internal(set) var refreshCount = 0
    /// How many codes were exchanged for tokens.
    public internal(set) var exchangeCount = 0
    /// The tokens named in revocation requests that the fake accepted.
    public internal(set) var revokedTokens: [String] = []

    var overrides: [Override] = []
    /// Records served per dataset name (`serve(dataset:records:pageSize:)`), and the page size of cursor walks.
    var datasetRecords: [String: (records: [JSONValue], pageSize: Int)] = [:]
    /// How many dataset pages were answered.
    public internal(set) var datasetPages = 0
    /// The API's own rate limit (`limitAPI(_:per:)`): calls per fixed window, the window's start and its calls.
    var apiLimit: (limit: Int, window: TimeInterval)?
    var apiWindow: (start: Date, calls: Int)?
    /// How many dataset requests were refused with 429 by that limit.
    public internal(set) var datasetRateLimited = 0
    var codes: [String: Grant] = [:]
    var accessTokens: [String: Session] = [:]
    var refreshTokens: [String: Session] = [:]
    var revokedFamilies: Set<Int> = []
    var nextFamily = 0
    var counter = 0

    /// A fake for `provider` at `endpoints` (resolved from the catalog when nil: templated providers need them).
    public init(
        provider: Provider,
        endpoints: OAuthEndpoints? = nil,
        clientID: String = "fake-client-id",
        clientSecret: String? = "fake-client-secret",
        issuer: String? = nil,
        quirks: Quirks? = nil,
        apiKey: String = "fake-api-key",
        username: String = "fake-user",
        lifetime: Int = 3600,
        clock: any LatchkeyClock = SystemClock()
    ) throws {
        let resolved: OAuthEndpoints
        if let endpoints {
            resolved = endpoints
        } else if provider.oauth != nil {
            resolved = try EndpointResolver.resolve(provider: provider, settings: [:], templateValues: [:])
        } else {
            let base = provider.proxyBaseURL.flatMap { URL(string: $0) }
            guard let base else { throw AuthorizationError(description: "\(provider.id) has no proxyBaseURL") }
            resolved = OAuthEndpoints(authorizationURL: base, tokenURL: base, apiBaseURL: base)
        }
        self.provider = provider
        self.endpoints = resolved
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.issuer = issuer
        self.quirks = quirks ?? .of(provider)
        self.apiKey = apiKey
        self.username = username
        self.lifetime = lifetime
        self.clock = clock
        var hosts = Set<String>()
        let urls: [URL?] = [
            resolved.authorizationURL, resolved.tokenURL, resolved.revocationURL, resolved.userInfoURL, resolved.apiBaseURL,
            provider.identity.flatMap { resolved.apiURL($0.endpoint) }, provider.probe.flatMap { resolved.apiURL($0.path) },
        ]
        for case let url? in urls { if let host = url.host { hosts.insert(host.lowercased()) } }
        self.hosts = hosts
    }

    /// Queues a misbehaviour for the next token endpoint request (each override is used once, in order).
    public func nextTokenResponse(_ override: Override) {
        overrides.append(override)
    }

    /// Forgets the recorded requests.
    public func clearRequests() {
        requests.removeAll()
    }

    /// The person revokes access at the provider: every token issued so far stops working.
    public func revokeAllGrants() {
        revokedFamilies.formUnion(0..<nextFamily)
    }

    /// Access tokens stop working (as when they expire); refresh tokens still work.
    public func expireAccessTokens() {
        accessTokens.removeAll()
    }

    /// Plays the authorization page: checks Latchkey's authorization URL (endpoint, `response_type=code`, client id,
    /// redirect URI, PKCE S256 when the provider uses PKCE), remembers the challenge, scopes and nonce, and returns
    /// the redirect back to Latchkey: `code` and `state` (and `iss` when configured), or `error=access_denied`.
    public func authorize(
        url: URL,
        approve: Bool = true,
        accountID: String = "1001",
        email: String? = "alice@example.com",
        name: String? = "Alice Example"
    ) throws -> URL {
        guard Self.sameEndpoint(url, endpoints.authorizationURL) else { throw AuthorizationError(description: "not the authorization endpoint") }
        let query = Self.query(of: url)
        guard query["response_type"] == "code" else { throw AuthorizationError(description: "response_type must be code") }
        guard query["client_id"] == clientID else { throw AuthorizationError(description: "unknown client_id") }
        guard let redirectURI = query["redirect_uri"], let redirect = URL(string: redirectURI), redirect.scheme != nil else {
            throw AuthorizationError(description: "redirect_uri missing")
        }
        let challenge = query["code_challenge"]
        if challenge != nil || provider.oauth?.pkce == true {
            guard challenge != nil, query["code_challenge_method"] == "S256" else { throw AuthorizationError(description: "PKCE S256 required") }
        }
        for (name, value) in provider.oauth?.authorizationParams ?? [:] where query[name] != value {
            throw AuthorizationError(description: "\(name) must be \(value)")
        }
        var items: [URLQueryItem] = []
        if approve {
            let separator = provider.oauth?.scopeSeparator ?? " "
            let scopes = (query[provider.oauth?.scopeParameter ?? "scope"] ?? "").components(separatedBy: separator).filter { !$0.isEmpty }
            let code = makeToken("code")
            codes[code] = Grant(
                account: Account(id: accountID, email: email, name: name),
                scopes: scopes,
                redirectURI: redirectURI,
                challenge: challenge,
                nonce: query["nonce"]
            )
            items.append(URLQueryItem(name: "code", value: code))
        } else {
            items.append(URLQueryItem(name: "error", value: "access_denied"))
            items.append(URLQueryItem(name: "error_description", value: "The user denied access"))
        }
        if let state = query["state"] { items.append(URLQueryItem(name: "state", value: state)) }
        if let issuer { items.append(URLQueryItem(name: "iss", value: issuer)) }
        var components = URLComponents(url: redirect, resolvingAgainstBaseURL: false)
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + items
        guard let result = components?.url else { throw AuthorizationError(description: "redirect_uri unusable") }
        return result
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        requests.append(request)
        let url = request.url
        if Self.sameEndpoint(url, endpoints.tokenURL), request.method == "POST" {
            if !overrides.isEmpty, let response = try overriddenTokenResponse(request, overrides.removeFirst()) { return response }
            return tokenEndpoint(request, expiresIn: nil)
        }
        if let revocation = endpoints.revocationURL {
            let filled = URL(string: revocation.absoluteString.replacingOccurrences(of: EndpointResolver.clientIDPlaceholder, with: clientID))
            if let filled, Self.sameEndpoint(url, filled) { return revocationEndpoint(request) }
        }
        if let spec = provider.identity, let identityURL = endpoints.apiURL(spec.endpoint), Self.sameEndpoint(url, identityURL) {
            return identityEndpoint(request, spec: spec)
        }
        if let userInfo = endpoints.userInfoURL, Self.sameEndpoint(url, userInfo) {
            return identityEndpoint(request, spec: nil)
        }
        if let probe = provider.probe, let probeURL = endpoints.apiURL(probe.path), Self.sameEndpoint(url, probeURL) {
            return probeEndpoint(request, probe: probe)
        }
        if let response = datasetEndpoint(request) { return response }
        return Self.json(404, .object(["error": .string("not_found")]))
    }
}
