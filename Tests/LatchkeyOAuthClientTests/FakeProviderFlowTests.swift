import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import Testing

/// authorize → exchange → identity → refresh → revoke against fakes that play real catalog entries.
@Suite struct FakeProviderFlowTests {
    static let redirectURI = "https://latchkey.example/connect/callback"

    struct Connected {
        var fake: FakeProvider
        var client: OAuthClient
        var credentials: OAuthClientCredentials
        var tokens: TokenSet
        var verifier: String?
    }

    func connect(
        _ providerID: String,
        scopes: [String]? = nil,
        templateValues: [String: String] = [:],
        accountID: String = "1001",
        nonce: String? = nil
    ) async throws -> Connected {
        let provider = try Fixtures.provider(providerID)
        let endpoints = try Fixtures.endpoints(provider, templateValues: templateValues)
        let fake = try FakeProvider(provider: provider, endpoints: endpoints, clock: Fixtures.clock)
        let network = FakeNetwork([fake])
        let client = OAuthClient(transport: network, clock: Fixtures.clock)
        let credentials = OAuthClientCredentials(
            clientID: fake.clientID,
            clientSecret: fake.clientSecret,
            method: provider.oauth?.clientAuth ?? .clientSecretBasic
        )
        let verifier = provider.oauth?.pkce == true ? PKCE.makeVerifier() : nil
        let request = AuthorizationRequest(
            provider: provider,
            endpoints: endpoints,
            clientID: credentials.clientID,
            redirectURI: Self.redirectURI,
            scopes: scopes ?? provider.oauth?.defaultScopes ?? [],
            state: "state-1",
            codeChallenge: verifier.map(PKCE.challenge(for:)),
            nonce: nonce
        )
        let redirect = try await fake.authorize(url: request.url, accountID: accountID)
        let query = (URLComponents(url: redirect, resolvingAgainstBaseURL: false)?.queryItems ?? []).map { (name: $0.name, value: $0.value ?? "") }
        guard case .code(let code, let state, _) = try CallbackParameters.parse(items: query) else {
            Issue.record("no code")
            throw OAuthClientError.malformedCallback("no code")
        }
        #expect(state == "state-1")
        let tokens = try await client.exchangeCode(
            provider: provider,
            endpoints: endpoints,
            client: credentials,
            code: code,
            redirectURI: Self.redirectURI,
            codeVerifier: verifier,
            nonce: nonce
        )
        return Connected(fake: fake, client: client, credentials: credentials, tokens: tokens, verifier: verifier)
    }

    @Test func zoomFullFlowWithRotationAndBasicAuth() async throws {
        let zoom = try Fixtures.provider("zoom")
        let endpoints = try Fixtures.endpoints(zoom)
        let connected = try await connect("zoom", scopes: ["user:read"])
        let tokens = connected.tokens
        #expect(tokens.expiresAt == Fixtures.clock.now.addingTimeInterval(3600))
        #expect(tokens.scopes == ["user:read"])
        let exchange = try #require(await connected.fake.requests.first)
        #expect(exchange.formFields["code_verifier"] == connected.verifier)
        #expect(exchange.header("Authorization")?.hasPrefix("Basic ") == true)
        #expect(exchange.formFields["client_secret"] == nil)
        #expect(!exchange.url.absoluteString.contains("fake-client-secret"))

        let identity = try await connected.client.fetchIdentity(provider: zoom, endpoints: endpoints, tokens: tokens)
        #expect(identity == AccountIdentity(id: "1001", email: "alice@example.com", name: "Alice Example"))

        let refreshed = try await connected.client.refresh(
            provider: zoom,
            endpoints: endpoints,
            client: connected.credentials,
            refreshToken: try #require(tokens.refreshToken),
            scopes: nil
        )
        #expect(refreshed.refreshToken != tokens.refreshToken)
        #expect(refreshed.accessToken != tokens.accessToken)
        #expect(await connected.fake.refreshCount == 1)

        // The rotated-out refresh token is dead.
        let reuse = await oauthError { () throws(OAuthClientError) in
            try await connected.client.refresh(
                provider: zoom,
                endpoints: endpoints,
                client: connected.credentials,
                refreshToken: tokens.refreshToken!,
                scopes: nil
            )
        }
        #expect(reuse?.classification == .reauthRequired(reason: "invalid_grant"))

        #expect(
            try await connected.client.revoke(
                provider: zoom,
                endpoints: endpoints,
                client: connected.credentials,
                token: refreshed.refreshToken!,
                tokenTypeHint: "refresh_token"
            ) == .revoked
        )
        #expect(await connected.fake.revokedTokens == [refreshed.refreshToken!])
        let afterRevoke = await oauthError { () throws(OAuthClientError) in
            try await connected.client.fetchIdentity(provider: zoom, endpoints: endpoints, tokens: refreshed)
        }
        #expect(afterRevoke?.kind == .providerError(code: "invalid_token", description: nil))
        #expect(afterRevoke?.classification == .reauthRequired(reason: "invalid_token"))
    }

    @Test func githubFlowWithoutRefreshTokensAndGrantDeletion() async throws {
        let github = try Fixtures.provider("github")
        let endpoints = try Fixtures.endpoints(github)
        let connected = try await connect("github", scopes: ["repo", "read:user"], accountID: "583231")
        #expect(connected.tokens.refreshToken == nil)
        #expect(connected.tokens.expiresAt == nil)
        #expect(connected.tokens.scopes == ["repo", "read:user"])
        #expect(try await connected.client.fetchIdentity(provider: github, endpoints: endpoints, tokens: connected.tokens)?.id == "583231")
        #expect(
            try await connected.client.revoke(
                provider: github,
                endpoints: endpoints,
                client: connected.credentials,
                token: connected.tokens.accessToken,
                tokenTypeHint: nil
            )
                == .revoked
        )
        #expect(await connected.fake.revokedTokens == [connected.tokens.accessToken])
    }

    @Test func githubAnswersFormEncodedWithoutAcceptJSON() async throws {
        let github = try Fixtures.provider("github")
        var plain = github
        plain.oauth?.tokenRequestHeaders = nil
        let fake = try FakeProvider(provider: github, clock: Fixtures.clock)
        let request = AuthorizationRequest(
            provider: github,
            endpoints: fake.endpoints,
            clientID: fake.clientID,
            redirectURI: Self.redirectURI,
            scopes: ["repo"],
            state: "s",
            codeChallenge: nil,
            nonce: nil
        )
        let redirect = try await fake.authorize(url: request.url)
        let code = try #require(URLComponents(url: redirect, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "code" }?.value)
        // Even a client that asks for JSON reads a form answer when the content type says so.
        await fake.nextTokenResponse(.formEncoded)
        let tokens = try await OAuthClient(transport: fake, clock: Fixtures.clock).exchangeCode(
            provider: plain,
            endpoints: fake.endpoints,
            client: OAuthClientCredentials(clientID: fake.clientID, clientSecret: fake.clientSecret, method: .clientSecretPost),
            code: code,
            redirectURI: Self.redirectURI,
            codeVerifier: nil
        )
        #expect(tokens.accessToken.hasPrefix("fake-at-"))
        #expect(tokens.scopes == ["repo"])
    }

    @Test func slackFlowReadsTheUserTokenAndRevokesAsBearer() async throws {
        let slack = try Fixtures.provider("slack")
        let endpoints = try Fixtures.endpoints(slack)
        let connected = try await connect("slack", scopes: ["channels:read", "chat:write"], accountID: "U123")
        #expect(connected.tokens.accessToken != "fake-bot-token")
        #expect(connected.tokens.scopes == ["channels:read", "chat:write"])
        #expect(connected.tokens.refreshToken != nil)
        let identity = try await connected.client.fetchIdentity(provider: slack, endpoints: endpoints, tokens: connected.tokens)
        #expect(identity == AccountIdentity(id: "U123", email: nil, name: "Alice Example"))
        let refreshed = try await connected.client.refresh(
            provider: slack,
            endpoints: endpoints,
            client: connected.credentials,
            refreshToken: connected.tokens.refreshToken!,
            scopes: nil
        )
        #expect(refreshed.refreshToken == connected.tokens.refreshToken)
        #expect(
            try await connected.client.revoke(
                provider: slack,
                endpoints: endpoints,
                client: connected.credentials,
                token: refreshed.accessToken,
                tokenTypeHint: nil
            )
                == .revoked
        )
        #expect(await connected.fake.revokedTokens == [refreshed.accessToken])
        await connected.fake.revokeAllGrants()
        let error = await oauthError { () throws(OAuthClientError) in
            try await connected.client.refresh(
                provider: slack,
                endpoints: endpoints,
                client: connected.credentials,
                refreshToken: refreshed.refreshToken!,
                scopes: nil
            )
        }
        #expect(error?.kind == .providerError(code: "invalid_refresh_token", description: nil))
        #expect(error?.classification == .reauthRequired(reason: "invalid_refresh_token"))
    }

    @Test func googleOpenIDFlowChecksTheNonce() async throws {
        let google = try Fixtures.provider("google")
        let connected = try await connect("google", scopes: ["openid", "email", "profile"], accountID: "g-42", nonce: "nonce-1")
        let claims = try IDTokenClaims.decode(try #require(connected.tokens.idToken))
        #expect(claims.subject == "g-42")
        #expect(claims.nonce == "nonce-1")
        let identity = try await connected.client.fetchIdentity(provider: google, endpoints: try Fixtures.endpoints(google), tokens: connected.tokens)
        #expect(identity?.id == "g-42")
        #expect(identity?.display == "alice@example.com")
    }

    @Test func shopifyTemplatedFlow() async throws {
        let shopify = try Fixtures.provider("shopify")
        let endpoints = try Fixtures.endpoints(shopify, templateValues: ["shop": "demo-store"])
        let connected = try await connect("shopify", scopes: ["read_products"], templateValues: ["shop": "demo-store"], accountID: "77")
        #expect(connected.fake.hosts.contains("demo-store.myshopify.com"))
        #expect(connected.tokens.refreshToken == nil)
        #expect(try await connected.client.fetchIdentity(provider: shopify, endpoints: endpoints, tokens: connected.tokens)?.id == "77")
    }

    @Test func pkceVerifierMismatchAndCodeReuseAreRefused() async throws {
        let zoom = try Fixtures.provider("zoom")
        let fake = try FakeProvider(provider: zoom, clock: Fixtures.clock)
        let client = OAuthClient(transport: fake, clock: Fixtures.clock)
        let credentials = OAuthClientCredentials(clientID: fake.clientID, clientSecret: fake.clientSecret, method: .clientSecretBasic)
        let verifier = PKCE.makeVerifier()
        let request = AuthorizationRequest(
            provider: zoom,
            endpoints: fake.endpoints,
            clientID: fake.clientID,
            redirectURI: Self.redirectURI,
            scopes: [],
            state: "s",
            codeChallenge: PKCE.challenge(for: verifier),
            nonce: nil
        )
        func code() async throws -> String {
            let redirect = try await fake.authorize(url: request.url)
            return try #require(URLComponents(url: redirect, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "code" }?.value)
        }
        let endpoints = fake.endpoints
        let first = try await code()
        let wrongVerifier = await oauthError { () throws(OAuthClientError) in
            try await client.exchangeCode(
                provider: zoom,
                endpoints: endpoints,
                client: credentials,
                code: first,
                redirectURI: Self.redirectURI,
                codeVerifier: PKCE.makeVerifier()
            )
        }
        #expect(wrongVerifier?.kind == .invalidGrant)
        let second = try await code()
        _ = try await client.exchangeCode(
            provider: zoom,
            endpoints: endpoints,
            client: credentials,
            code: second,
            redirectURI: Self.redirectURI,
            codeVerifier: verifier
        )
        let replay = await oauthError { () throws(OAuthClientError) in
            try await client.exchangeCode(
                provider: zoom,
                endpoints: endpoints,
                client: credentials,
                code: second,
                redirectURI: Self.redirectURI,
                codeVerifier: verifier
            )
        }
        #expect(replay?.kind == .invalidGrant)
        let third = try await code()
        let wrongRedirect = await oauthError { () throws(OAuthClientError) in
            try await client.exchangeCode(
                provider: zoom,
                endpoints: endpoints,
                client: credentials,
                code: third,
                redirectURI: "https://evil.example/cb",
                codeVerifier: verifier
            )
        }
        #expect(wrongRedirect?.kind == .invalidGrant)
        #expect(await fake.exchangeCount == 1)
    }

    @Test func authorizationChecksAndDenial() async throws {
        let zoom = try Fixtures.provider("zoom")
        let fake = try FakeProvider(provider: zoom, clock: Fixtures.clock)
        func request(clientID: String, challenge: String?) -> URL {
            AuthorizationRequest(
                provider: zoom,
                endpoints: fake.endpoints,
                clientID: clientID,
                redirectURI: Self.redirectURI,
                scopes: [],
                state: "s",
                codeChallenge: challenge,
                nonce: nil
            ).url
        }
        await #expect(throws: FakeProvider.AuthorizationError.self) { try await fake.authorize(url: request(clientID: "other", challenge: "c")) }
        await #expect(throws: FakeProvider.AuthorizationError.self) {
            try await fake.authorize(url: request(clientID: fake.clientID, challenge: nil))
        }
        let denied = try await fake.authorize(url: request(clientID: fake.clientID, challenge: "c"), approve: false)
        let query = (URLComponents(url: denied, resolvingAgainstBaseURL: false)?.queryItems ?? []).map { (name: $0.name, value: $0.value ?? "") }
        #expect(
            try CallbackParameters.parse(items: query)
                == .denied(error: "access_denied", description: "The user denied access", state: "s", issuer: nil)
        )
    }

    @Test func issuerIsSentOnTheRedirectWhenConfigured() async throws {
        let oidc = try Fixtures.provider("oidc")
        let endpoints = OAuthEndpoints(
            authorizationURL: URL(string: "https://idp.example/auth")!,
            tokenURL: URL(string: "https://idp.example/token")!,
            issuer: "https://idp.example"
        )
        let fake = try FakeProvider(provider: oidc, endpoints: endpoints, issuer: "https://idp.example", clock: Fixtures.clock)
        let url = AuthorizationRequest(
            provider: oidc,
            endpoints: endpoints,
            clientID: fake.clientID,
            redirectURI: Self.redirectURI,
            scopes: ["openid"],
            state: "s",
            codeChallenge: "c",
            nonce: "n"
        ).url
        let redirect = try await fake.authorize(url: url)
        #expect(redirect.query?.contains("iss=https") == true)
    }

    @Test func misbehaviourOverrides() async throws {
        let google = try Fixtures.provider("google")
        let fake = try FakeProvider(provider: google, clock: Fixtures.clock)
        let client = OAuthClient(transport: fake, clock: Fixtures.clock)
        let credentials = OAuthClientCredentials(clientID: fake.clientID, clientSecret: fake.clientSecret, method: .clientSecretPost)
        let endpoints = fake.endpoints
        func refreshError() async -> OAuthClientError? {
            await oauthError { () throws(OAuthClientError) in
                try await client.refresh(provider: google, endpoints: endpoints, client: credentials, refreshToken: "x", scopes: nil)
            }
        }
        await fake.nextTokenResponse(.html)
        #expect(await refreshError()?.kind == .malformedResponse(reason: "the answer is not JSON"))
        await fake.nextTokenResponse(.oversized)
        #expect(await refreshError()?.kind == .transport(.responseTooLarge(host: "oauth2.googleapis.com", limit: 1 << 20)))
        await fake.nextTokenResponse(.noAccessToken)
        #expect(await refreshError() == .noAccessToken)
        await fake.nextTokenResponse(.unreachable)
        #expect(await refreshError()?.classification == .transient(retryAfter: nil))
        await fake.nextTokenResponse(.status(503, body: "busy", contentType: "text/plain"))
        #expect(await refreshError()?.kind == .unexpectedStatus(503))
        await fake.nextTokenResponse(.error("invalid_client"))
        #expect(await refreshError()?.kind == .invalidClient)
        #expect(await refreshError()?.kind == .invalidGrant)
        #expect(await fake.requests.count == 7)
    }

    @Test(arguments: [("\"3600\"", 3600.0), ("0", nil), ("-5", nil), ("\"abc\"", nil), ("120", 120.0)] as [(String, Double?)])
    func expiresInOverridesOnTheFake(raw: String, seconds: Double?) async throws {
        let google = try Fixtures.provider("google")
        let fake = try FakeProvider(provider: google, clock: Fixtures.clock)
        let verifier = PKCE.makeVerifier()
        let authorization = AuthorizationRequest(
            provider: google,
            endpoints: fake.endpoints,
            clientID: fake.clientID,
            redirectURI: Self.redirectURI,
            scopes: ["email"],
            state: "s",
            codeChallenge: PKCE.challenge(for: verifier),
            nonce: nil
        )
        let redirect = try await fake.authorize(url: authorization.url)
        let code = try #require(URLComponents(url: redirect, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "code" }?.value)
        await fake.nextTokenResponse(.expiresIn(raw))
        let tokens = try await OAuthClient(transport: fake, clock: Fixtures.clock).exchangeCode(
            provider: google,
            endpoints: fake.endpoints,
            client: OAuthClientCredentials(clientID: fake.clientID, clientSecret: fake.clientSecret, method: .clientSecretPost),
            code: code,
            redirectURI: Self.redirectURI,
            codeVerifier: verifier
        )
        #expect(tokens.expiresAt == seconds.map { Fixtures.clock.now.addingTimeInterval($0) })
    }

    @Test func networkRoutesByHostAndRefusesUnknownHosts() async throws {
        let slack = try FakeProvider(provider: Fixtures.provider("slack"), clock: Fixtures.clock)
        let github = try FakeProvider(provider: Fixtures.provider("github"), clock: Fixtures.clock)
        let network = FakeNetwork([slack, github])
        let response = try await network.send(OutboundRequest(method: "GET", url: URL(string: "https://api.github.com/user")!))
        #expect(response.status == 401)
        #expect(await github.requests.count == 1)
        #expect(await slack.requests.isEmpty)
        await #expect(throws: OutboundError.unreachable(host: "example.org")) {
            try await network.send(OutboundRequest(method: "GET", url: URL(string: "https://example.org/")!))
        }
    }
}
