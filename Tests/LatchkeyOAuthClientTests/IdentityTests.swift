import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import Testing

@Suite struct IdentityTests {
    func identity(
        _ providerID: String,
        _ transport: StubTransport,
        tokens: TokenSet = TokenSet(accessToken: "at-1"),
        templateValues: [String: String] = [:]
    )
        async throws -> AccountIdentity?
    {
        let provider = try Fixtures.provider(providerID)
        return try await OAuthClient(transport: transport, clock: Fixtures.clock).fetchIdentity(
            provider: provider,
            endpoints: try Fixtures.endpoints(provider, templateValues: templateValues),
            tokens: tokens
        )
    }

    @Test func notionNestedDottedPaths() async throws {
        let body =
            #"{"object":"user","type":"bot","bot":{"owner":{"type":"user","user":{"id":"u-1","name":"Ada","person":{"email":"ada@example.com"}}}}}"#
        let transport = StubTransport.json(body)
        let identity = try await identity("notion", transport)
        #expect(identity == AccountIdentity(id: "u-1", email: "ada@example.com", name: "Ada"))
        let request = try #require(await transport.lastRequest)
        #expect(request.url.absoluteString == "https://api.notion.com/v1/users/me")
        #expect(request.header("Authorization") == "Bearer at-1")
        #expect(request.header("Notion-Version") != nil)
    }

    @Test func numericIDsBecomeStringsExactly() async throws {
        let github = try await identity("github", .json(#"{"login":"octo","id":583231,"email":null,"name":"The Octocat"}"#))
        #expect(github == AccountIdentity(id: "583231", email: nil, name: "The Octocat"))
        #expect(github?.display == "The Octocat")
        let discord = try await identity("discord", .json(#"{"id":80351110224678912,"global_name":"Nelly"}"#))
        #expect(discord?.id == "80351110224678912")
    }

    @Test func linearPostsItsGraphQLQuery() async throws {
        let transport = StubTransport.json(#"{"data":{"viewer":{"id":"v-1","email":"v@example.com","name":"Vi"}}}"#)
        #expect(try await identity("linear", transport) == AccountIdentity(id: "v-1", email: "v@example.com", name: "Vi"))
        let request = try #require(await transport.lastRequest)
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == "https://api.linear.app/graphql")
        #expect(request.header("Content-Type") == "application/json")
        #expect(String(data: try #require(request.body), encoding: .utf8)?.contains("viewer") == true)
    }

    @Test func dropboxPostsWithoutABody() async throws {
        let transport = StubTransport.json(#"{"account_id":"dbid:1","email":"d@example.com","name":{"display_name":"Dee"}}"#)
        #expect(try await identity("dropbox", transport) == AccountIdentity(id: "dbid:1", email: "d@example.com", name: "Dee"))
        let request = try #require(await transport.lastRequest)
        #expect(request.method == "POST")
        #expect(request.body == nil)
        #expect(request.header("Content-Type") == nil)
    }

    @Test func shopifyUsesItsOwnTokenHeaderOnTheShopHost() async throws {
        let transport = StubTransport.json(#"{"shop":{"id":7,"email":"s@example.com","name":"Demo"}}"#)
        #expect(try await identity("shopify", transport, templateValues: ["shop": "demo"])?.id == "7")
        let request = try #require(await transport.lastRequest)
        #expect(request.url.absoluteString == "https://demo.myshopify.com/admin/api/2025-07/shop.json")
        #expect(request.header("X-Shopify-Access-Token") == "at-1")
        #expect(request.header("Authorization") == nil)
    }

    @Test func slackOkFalseAndMissingIDAreErrors() async throws {
        let provider = try Fixtures.provider("slack")
        let endpoints = try Fixtures.endpoints(provider)
        for (body, expected) in [
            (#"{"ok":false,"error":"invalid_auth"}"#, OAuthClientError.providerError(code: "invalid_auth", description: nil, status: 200)),
            (#"{"ok":true,"user":"ann"}"#, .malformedResponse("the account answer has no user_id")),
        ] {
            let client = OAuthClient(transport: StubTransport.json(body), clock: Fixtures.clock)
            let error = await oauthError { () throws(OAuthClientError) in
                try await client.fetchIdentity(provider: provider, endpoints: endpoints, tokens: TokenSet(accessToken: "t"))
            }
            #expect(error == expected)
        }
    }

    @Test func userInfoAndIDTokenFallbacks() async throws {
        let provider = try Fixtures.provider("oidc")
        let withUserInfo = OAuthEndpoints(
            authorizationURL: URL(string: "https://idp.example/a")!,
            tokenURL: URL(string: "https://idp.example/t")!,
            userInfoURL: URL(string: "https://idp.example/userinfo")!
        )
        let transport = StubTransport.json(#"{"sub":"s-1","preferred_username":"sam"}"#)
        let fromUserInfo = try await OAuthClient(transport: transport, clock: Fixtures.clock).fetchIdentity(
            provider: provider,
            endpoints: withUserInfo,
            tokens: TokenSet(accessToken: "t")
        )
        #expect(fromUserInfo == AccountIdentity(id: "s-1", email: nil, name: "sam"))

        var bare = withUserInfo
        bare.userInfoURL = nil
        let idToken = "e30." + Data(#"{"sub":"s-2","email":"s2@example.com"}"#.utf8).base64URLEncodedString() + ".x"
        let fromIDToken = try await OAuthClient(transport: StubTransport([]), clock: Fixtures.clock).fetchIdentity(
            provider: provider,
            endpoints: bare,
            tokens: TokenSet(accessToken: "t", idToken: idToken)
        )
        #expect(fromIDToken == AccountIdentity(id: "s-2", email: "s2@example.com", name: nil))
        let nothing = try await OAuthClient(transport: StubTransport([]), clock: Fixtures.clock).fetchIdentity(
            provider: provider,
            endpoints: bare,
            tokens: TokenSet(accessToken: "t")
        )
        #expect(nothing == nil)
    }

    @Test func expiredTokenIsReauth() async throws {
        let provider = try Fixtures.provider("github")
        let endpoints = try Fixtures.endpoints(provider)
        let client = OAuthClient(transport: StubTransport.json(401, #"{"message":"Bad credentials"}"#), clock: Fixtures.clock)
        let error = await oauthError { () throws(OAuthClientError) in
            try await client.fetchIdentity(provider: provider, endpoints: endpoints, tokens: TokenSet(accessToken: "t"))
        }
        #expect(error?.kind == .unexpectedStatus(401))
        #expect(error?.classification == .reauthRequired(reason: "the provider refused the request (HTTP 401)"))
    }
}

@Suite struct DiscoveryTests {
    let url = URL(string: "https://idp.example/realms/a/.well-known/openid-configuration")!

    func discover(_ body: String) async -> Result<OIDCDiscovery, OAuthClientError> {
        let client = OAuthClient(transport: StubTransport.json(body), clock: Fixtures.clock)
        do {
            return .success(try await client.discover(discoveryURL: url))
        } catch {
            return .failure(error)
        }
    }

    @Test func readsTheEndpoints() async throws {
        let body = """
            {"issuer":"https://idp.example/realms/a","authorization_endpoint":"https://idp.example/realms/a/auth",
             "token_endpoint":"https://idp.example/realms/a/token","userinfo_endpoint":"https://idp.example/realms/a/userinfo",
             "revocation_endpoint":"https://idp.example/realms/a/revoke","jwks_uri":"https://idp.example/realms/a/certs",
             "response_types_supported":["code"]}
            """
        let discovery = try await discover(body).get()
        #expect(discovery.issuer == "https://idp.example/realms/a")
        #expect(discovery.tokenURL.absoluteString == "https://idp.example/realms/a/token")
        #expect(discovery.settings["revocationURL"] == "https://idp.example/realms/a/revoke")
        #expect(discovery.settings["userInfoURL"] == "https://idp.example/realms/a/userinfo")
        let endpoints = try EndpointResolver.resolve(provider: Fixtures.provider("oidc"), settings: discovery.settings, templateValues: [:])
        #expect(endpoints.issuer == "https://idp.example/realms/a")
    }

    @Test func refusesBadDocuments() async {
        let cases: [(String, String)] = [
            (
                #"{"issuer":"https://evil.example","authorization_endpoint":"https://a.example/a","token_endpoint":"https://a.example/t"}"#,
                "the discovery document names a different issuer"
            ),
            (#"{"authorization_endpoint":"https://a.example/a","token_endpoint":"https://a.example/t"}"#, "the discovery document has no issuer"),
            (
                #"{"issuer":"https://idp.example/realms/a","authorization_endpoint":"https://a.example/a"}"#,
                "the discovery document has no token_endpoint"
            ),
            (
                #"{"issuer":"https://idp.example/realms/a","authorization_endpoint":42,"token_endpoint":"https://a.example/t"}"#,
                "authorization_endpoint in the discovery document is not a URL"
            ),
            ("<html></html>", "the discovery document is not JSON"),
        ]
        for (body, reason) in cases {
            guard case .failure(let error) = await discover(body) else {
                Issue.record("accepted \(body)")
                continue
            }
            #expect(error.kind == .malformedResponse(reason: reason))
        }
    }
}

@Suite struct StaticCredentialTests {
    @Test func apiKeysAndBasicSecretsAreProbed() async throws {
        for id in ["openai", "anthropic", "twilio"] {
            let provider = try Fixtures.provider(id)
            let fake = try FakeProvider(provider: provider, apiKey: "good-key", username: "AC1")
            let client = OAuthClient(transport: fake, clock: Fixtures.clock)
            #expect(try await client.checkStaticCredential(provider: provider, apiKey: "good-key", username: "AC1", password: "good-key"), "\(id)")
            #expect(try await !client.checkStaticCredential(provider: provider, apiKey: "bad-key", username: "AC1", password: "bad-key"), "\(id)")
        }
        let anthropic = try Fixtures.provider("anthropic")
        let transport = StubTransport([OutboundResponse(status: 200)])
        _ = try await OAuthClient(transport: transport, clock: Fixtures.clock).checkStaticCredential(
            provider: anthropic,
            apiKey: "k",
            username: nil,
            password: nil
        )
        let request = try #require(await transport.lastRequest)
        #expect(request.url.absoluteString == "https://api.anthropic.com/v1/models")
        #expect(request.header("x-api-key") == "k")
        #expect(request.header("anthropic-version") != nil)
    }

    @Test func otherAnswersThrow() async throws {
        let openai = try Fixtures.provider("openai")
        let client = OAuthClient(transport: StubTransport([OutboundResponse(status: 500)]), clock: Fixtures.clock)
        let error = await oauthError { () throws(OAuthClientError) in
            try await client.checkStaticCredential(provider: openai, apiKey: "k", username: nil, password: nil)
        }
        #expect(error?.kind == .unexpectedStatus(500))
        let unreachable = OAuthClient(transport: StubTransport(failing: .unreachable(host: "api.openai.com")), clock: Fixtures.clock)
        let transportError = await oauthError { () throws(OAuthClientError) in
            try await unreachable.checkStaticCredential(provider: openai, apiKey: "k", username: nil, password: nil)
        }
        #expect(transportError?.kind == .transport(.unreachable(host: "api.openai.com")))
    }
}
