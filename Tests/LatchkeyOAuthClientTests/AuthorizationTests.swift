import Foundation
import LatchkeyOAuthClient
import LatchkeyProviders
import Testing

@Suite struct PKCETests {
    @Test func rfc7636AppendixBVector() {
        #expect(PKCE.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func verifiersAreLongUnreservedAndFresh() {
        let verifiers = (0..<50).map { _ in PKCE.makeVerifier() }
        for verifier in verifiers {
            #expect(verifier.count >= 43)
            #expect(PKCE.isValidVerifier(verifier))
            #expect(!PKCE.challenge(for: verifier).contains("="))
        }
        #expect(Set(verifiers).count == verifiers.count)
    }
}

@Suite struct AuthorizationURLTests {
    func query(_ url: URL) -> [String: String] {
        var fields: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] { fields[item.name] = item.value }
        return fields
    }

    func request(
        _ provider: Provider,
        scopes: [String],
        templateValues: [String: String] = [:],
        challenge: String? = "challenge"
    ) throws
        -> AuthorizationRequest
    {
        AuthorizationRequest(
            provider: provider,
            endpoints: try Fixtures.endpoints(provider, templateValues: templateValues),
            clientID: "client id",
            redirectURI: "https://latchkey.example/connect/callback",
            scopes: scopes,
            state: "state-1",
            codeChallenge: challenge,
            nonce: nil
        )
    }

    @Test func slackSendsCommaJoinedUserScopes() throws {
        let url = try request(Fixtures.provider("slack"), scopes: ["channels:read", "chat:write"], challenge: nil).url
        let fields = query(url)
        #expect(url.absoluteString.hasPrefix("https://slack.com/oauth/v2/authorize?"))
        #expect(fields["user_scope"] == "channels:read,chat:write")
        #expect(fields["scope"] == nil)
        #expect(url.absoluteString.contains("user_scope=channels%3Aread%2Cchat%3Awrite"))
        #expect(fields["response_type"] == "code")
        #expect(fields["client_id"] == "client id")
        #expect(fields["redirect_uri"] == "https://latchkey.example/connect/callback")
        #expect(fields["state"] == "state-1")
        #expect(fields["code_challenge"] == nil)
    }

    @Test func googleAddsOfflineAccessAndPKCE() throws {
        let fields = query(try request(Fixtures.provider("google"), scopes: ["openid", "email"]).url)
        #expect(fields["scope"] == "openid email")
        #expect(fields["access_type"] == "offline")
        #expect(fields["prompt"] == "consent")
        #expect(fields["include_granted_scopes"] == "true")
        #expect(fields["code_challenge"] == "challenge")
        #expect(fields["code_challenge_method"] == "S256")
    }

    @Test func emptyScopesLeaveTheParameterOutAndNonceIsSent() throws {
        var authorization = try request(Fixtures.provider("notion"), scopes: [])
        authorization.nonce = "nonce-1"
        let fields = query(authorization.url)
        #expect(fields["scope"] == nil)
        #expect(fields["owner"] == "user")
        #expect(fields["nonce"] == "nonce-1")
    }

    @Test func existingQueryItemsAreKept() throws {
        let provider = try Fixtures.provider("oauth2")
        let endpoints = try EndpointResolver.resolve(
            provider: provider,
            settings: ["authorizationURL": "https://idp.example/authorize?tenant=acme", "tokenURL": "https://idp.example/token"],
            templateValues: [:]
        )
        let url = AuthorizationRequest(
            provider: provider,
            endpoints: endpoints,
            clientID: "c",
            redirectURI: "https://l.example/cb",
            scopes: ["a", "b"],
            state: "s",
            codeChallenge: nil,
            nonce: nil
        ).url
        #expect(query(url)["tenant"] == "acme")
        #expect(query(url)["scope"] == "a b")
        #expect(url.absoluteString.hasPrefix("https://idp.example/authorize?tenant=acme&response_type=code"))
    }

    @Test func shopifyAndZendeskURLsAreFilledFromTheCredentialValues() throws {
        let shopify = try Fixtures.endpoints(Fixtures.provider("shopify"), templateValues: ["shop": "demo-store"])
        #expect(shopify.authorizationURL.absoluteString == "https://demo-store.myshopify.com/admin/oauth/authorize")
        #expect(shopify.tokenURL.absoluteString == "https://demo-store.myshopify.com/admin/oauth/access_token")
        #expect(shopify.apiBaseURL?.absoluteString == "https://demo-store.myshopify.com/admin/api/2025-07")
        let fields = query(
            try request(Fixtures.provider("shopify"), scopes: ["read_products", "write_orders"], templateValues: ["shop": "demo-store"]).url
        )
        #expect(fields["scope"] == "read_products,write_orders")

        let zendesk = try Fixtures.endpoints(Fixtures.provider("zendesk"), templateValues: ["subdomain": "acme"])
        #expect(zendesk.authorizationURL.absoluteString == "https://acme.zendesk.com/oauth/authorizations/new")
        #expect(zendesk.apiBaseURL?.absoluteString == "https://acme.zendesk.com/api/v2")
    }

    @Test func microsoftUsesTheDefaultTenant() throws {
        let endpoints = try Fixtures.endpoints(Fixtures.provider("microsoft"))
        #expect(endpoints.tokenURL.absoluteString == "https://login.microsoftonline.com/common/oauth2/v2.0/token")
        let own = try Fixtures.endpoints(Fixtures.provider("microsoft"), templateValues: ["tenant": "contoso.onmicrosoft.com"])
        #expect(own.tokenURL.host == "login.microsoftonline.com")
        #expect(own.tokenURL.path == "/contoso.onmicrosoft.com/oauth2/v2.0/token")
    }

    @Test(arguments: [
        "evil.com/", "evil.com#", "evil.com?", "a@evil.com", "evil.com:443", "a b", "a%2Fb", "..", "a\\b", "shop\nx", "é", "", "-starts-with-dash",
    ])
    func templateInjectionIsRefused(value: String) throws {
        let shopify = try Fixtures.provider("shopify")
        #expect(throws: OAuthClientError.missingSetting("shop")) {
            try EndpointResolver.resolve(provider: shopify, settings: [:], templateValues: ["shop": value])
        }
    }

    @Test func microsoftTenantCannotEscapeThePath() throws {
        let microsoft = try Fixtures.provider("microsoft")
        for value in ["evil.com/x", "../x", "a?b", "x#y", ".."] {
            #expect(throws: OAuthClientError.self) {
                try EndpointResolver.resolve(provider: microsoft, settings: [:], templateValues: ["tenant": value])
            }
        }
    }

    @Test func tokenResponseOriginsAreCheckedAndFillTheAPIBase() throws {
        let salesforce = try Fixtures.provider("salesforce")
        #expect(try Fixtures.endpoints(salesforce).apiBaseURL == nil)
        let tokens = TokenSet(accessToken: "a", raw: Data(#"{"instance_url":"https://acme.my.salesforce.com","access_token":"a"}"#.utf8))
        let values = EndpointResolver.tokenResponseValues(provider: salesforce, tokens: tokens)
        #expect(values == ["instance_url": "https://acme.my.salesforce.com"])
        let endpoints = try Fixtures.endpoints(salesforce, templateValues: values)
        #expect(endpoints.apiBaseURL?.absoluteString == "https://acme.my.salesforce.com/services/data/v62.0")
        for bad in ["http://acme.my.salesforce.com", "https://user@evil.example", "https://evil.example/path", "https://evil.example?x=1", "evil"] {
            let resolved = try Fixtures.endpoints(salesforce, templateValues: ["instance_url": bad])
            #expect(resolved.apiBaseURL == nil, "\(bad)")
        }
    }

    @Test func genericProvidersReadTheIntegrationSettings() throws {
        let oauth2 = try Fixtures.provider("oauth2")
        #expect(throws: OAuthClientError.missingSetting("tokenURL")) {
            try EndpointResolver.resolve(provider: oauth2, settings: ["authorizationURL": "https://idp.example/a"], templateValues: [:])
        }
        #expect(throws: OAuthClientError.missingSetting("authorizationURL")) {
            try EndpointResolver.resolve(
                provider: oauth2,
                settings: ["authorizationURL": "https://user:pw@idp.example/a", "tokenURL": "https://idp.example/t"],
                templateValues: [:]
            )
        }
        let endpoints = try EndpointResolver.resolve(
            provider: oauth2,
            settings: [
                "authorizationURL": "https://idp.example/a", "tokenURL": "https://idp.example/t", "revocationURL": "https://idp.example/r",
                "apiBaseURL": "https://api.idp.example/v1",
            ],
            templateValues: [:]
        )
        #expect(endpoints.revocationURL?.absoluteString == "https://idp.example/r")
        #expect(endpoints.userInfoURL == nil)
        #expect(endpoints.issuer == nil)
        #expect(endpoints.apiURL("/me")?.absoluteString == "https://api.idp.example/v1/me")

        let oidc = try Fixtures.provider("oidc")
        let discovery = OIDCDiscovery(
            issuer: "https://idp.example",
            authorizationURL: URL(string: "https://idp.example/auth")!,
            tokenURL: URL(string: "https://idp.example/token")!,
            userInfoURL: URL(string: "https://idp.example/userinfo")!
        )
        let resolved = try EndpointResolver.resolve(provider: oidc, settings: discovery.settings, templateValues: [:])
        #expect(resolved.issuer == "https://idp.example")
        #expect(resolved.userInfoURL?.absoluteString == "https://idp.example/userinfo")
        #expect(throws: OAuthClientError.missingSetting("issuer")) {
            try EndpointResolver.resolve(
                provider: oidc,
                settings: ["authorizationURL": "https://a.example", "tokenURL": "https://a.example/t"],
                templateValues: [:]
            )
        }
    }
}

@Suite struct CallbackTests {
    static func parse(_ items: [(String, String)]) throws(OAuthClientError) -> CallbackParameters {
        try CallbackParameters.parse(items: items.map { (name: $0.0, value: $0.1) })
    }

    @Test func codeAndStateWithIssuer() throws {
        let parsed = try Self.parse([("code", "c"), ("state", "s"), ("iss", "https://idp.example")])
        #expect(parsed == .code(code: "c", state: "s", issuer: "https://idp.example"))
        try parsed.checkIssuer(expected: "https://idp.example")
        try parsed.checkIssuer(expected: "https://idp.example", required: true)
        #expect(throws: OAuthClientError.issuerMismatch) { try parsed.checkIssuer(expected: "https://other.example") }
        try CallbackParameters.code(code: "c", state: "s", issuer: nil).checkIssuer(expected: "https://idp.example")
    }

    /// RFC 9207 §2.4: when the provider says it sends `iss`, a response without it is refused.
    @Test func aMissingIssIsRefusedWhenTheProviderSendsOne() throws {
        let parsed = try Self.parse([("code", "c"), ("state", "s")])
        #expect(throws: OAuthClientError.malformedCallback("no iss, though the provider says it sends one")) {
            try parsed.checkIssuer(expected: "https://idp.example", required: true)
        }
        let empty = try Self.parse([("code", "c"), ("state", "s"), ("iss", "")])
        #expect(throws: OAuthClientError.self) { try empty.checkIssuer(expected: "https://idp.example", required: true) }
        // A provider that does not send iss, and no iss: accepted.
        try parsed.checkIssuer(expected: "https://idp.example", required: false)
        try parsed.checkIssuer(expected: nil, required: false)
    }

    /// RFC 6749 §3.1: a repeated parameter is refused, never read first-wins (a duplicated `iss` with the right
    /// value first used to pass).
    @Test(arguments: ["code", "state", "iss", "error", "error_description"])
    func repeatedParametersAreRefused(name: String) throws {
        var items = [("code", "c"), ("state", "s"), ("iss", "https://idp.example")]
        if name.hasPrefix("error") { items = [("error", "access_denied"), ("error_description", "no"), ("state", "s")] }
        let value = items.first { $0.0 == name }?.1 ?? ""
        items.append((name, name == "iss" ? "https://evil.example" : value + "-2"))
        #expect(throws: OAuthClientError.malformedCallback("the parameter \(name) appears more than once")) { try Self.parse(items) }
        // Even the same value twice.
        var same = items.dropLast().map { $0 }
        same.insert((name, value), at: 0)
        #expect(throws: OAuthClientError.malformedCallback("the parameter \(name) appears more than once")) { try Self.parse(same) }
    }

    /// RFC 9207 applies to error responses too.
    @Test func errorResponsesAreCheckedForIssToo() throws {
        let foreign = try Self.parse([("error", "access_denied"), ("state", "s"), ("iss", "https://evil.example")])
        #expect(foreign.issuer == "https://evil.example")
        #expect(throws: OAuthClientError.issuerMismatch) { try foreign.checkIssuer(expected: "https://idp.example") }
        let bare = try Self.parse([("error", "access_denied"), ("state", "s")])
        #expect(throws: OAuthClientError.malformedCallback("no iss, though the provider says it sends one")) {
            try bare.checkIssuer(expected: "https://idp.example", required: true)
        }
        try bare.checkIssuer(expected: "https://idp.example")
    }

    @Test func otherParametersMayRepeat() throws {
        let parsed = try Self.parse([("code", "c"), ("state", "s"), ("session_state", "a"), ("session_state", "b")])
        #expect(parsed == .code(code: "c", state: "s", issuer: nil))
    }

    @Test func deniedByThePerson() throws {
        let parsed = try Self.parse([("error", "access_denied"), ("error_description", "no"), ("state", "s")])
        #expect(parsed == .denied(error: "access_denied", description: "no", state: "s", issuer: nil))
        #expect(parsed.state == "s")
    }

    @Test func incompleteCallbacksAreRefused() {
        #expect(throws: OAuthClientError.malformedCallback("neither a code nor an error")) { try Self.parse([]) }
        #expect(throws: OAuthClientError.malformedCallback("no state")) { try Self.parse([("code", "c")]) }
        #expect(throws: OAuthClientError.malformedCallback("no code")) { try Self.parse([("state", "s")]) }
    }
}

/// Answers every request with one discovery document.
struct DiscoveryDocument: HTTPTransport {
    let json: String

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "application/json")], body: Data(json.utf8))
    }
}

@Suite struct IssuerMetadataTests {
    static func discover(_ extra: String) async throws -> OIDCDiscovery {
        let json = """
            {"issuer": "https://idp.example", "authorization_endpoint": "https://idp.example/a", "token_endpoint": "https://idp.example/t"\(extra)}
            """
        let client = OAuthClient(transport: DiscoveryDocument(json: json), clock: Fixtures.clock)
        return try await client.discover(discoveryURL: URL(string: "https://idp.example/.well-known/openid-configuration")!)
    }

    /// `authorization_response_iss_parameter_supported: true` in discovery makes `iss` required on callbacks.
    @Test func discoveryKeepsWhetherTheProviderSendsIss() async throws {
        let oidc = try Fixtures.provider("oidc")
        let sends = try await Self.discover(#", "authorization_response_iss_parameter_supported": true"#)
        #expect(sends.settings["issParameterSupported"] == "true")
        let required = try EndpointResolver.resolve(provider: oidc, settings: sends.settings, templateValues: [:])
        #expect(required.issuer == "https://idp.example" && required.requiresIssuerParameter)
        for extra in [
            "", #", "authorization_response_iss_parameter_supported": false"#, #", "authorization_response_iss_parameter_supported": "true""#,
        ] {
            let silent = try await Self.discover(extra)
            #expect(silent.settings["issParameterSupported"] == nil, "\(extra)")
            #expect(try !EndpointResolver.resolve(provider: oidc, settings: silent.settings, templateValues: [:]).requiresIssuerParameter)
        }
        let noIssuer = OAuthEndpoints(
            authorizationURL: URL(string: "https://a.example")!,
            tokenURL: URL(string: "https://a.example")!,
            requiresIssuerParameter: true
        )
        #expect(!noIssuer.requiresIssuerParameter)
    }
}
