import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import Testing

/// What Latchkey sends: client authentication, token parameters, revocation in each provider's style.
@Suite struct ClientRequestTests {
    func send(_ providerID: String, secret: String? = "s3cr et+/:", refresh: Bool = false) async throws -> OutboundRequest {
        let provider = try Fixtures.provider(providerID)
        let transport = StubTransport.json(#"{"access_token":"a"}"#)
        let client = OAuthClient(transport: transport, clock: Fixtures.clock)
        let credentials = OAuthClientCredentials(
            clientID: "id:with space",
            clientSecret: secret,
            method: provider.oauth?.clientAuth ?? .clientSecretBasic
        )
        let endpoints = try Fixtures.endpoints(provider)
        if refresh {
            _ = try await client.refresh(provider: provider, endpoints: endpoints, client: credentials, refreshToken: "rt-1", scopes: ["a", "b"])
        } else {
            _ = try await client.exchangeCode(
                provider: provider,
                endpoints: endpoints,
                client: credentials,
                code: "code-1",
                redirectURI: "https://l.example/cb",
                codeVerifier: "verifier-1"
            )
        }
        return try #require(await transport.lastRequest)
    }

    @Test func clientSecretBasicFormEncodesBeforeBase64() async throws {
        let request = try await send("zoom")
        let expected = Data("id%3Awith+space:s3cr+et%2B%2F%3A".utf8).base64EncodedString()
        #expect(request.header("Authorization") == "Basic \(expected)")
        #expect(request.formFields["client_secret"] == nil)
        #expect(request.formFields["client_id"] == nil)
        #expect(
            request.formFields == [
                "grant_type": "authorization_code", "code": "code-1", "redirect_uri": "https://l.example/cb", "code_verifier": "verifier-1",
            ]
        )
        #expect(request.method == "POST")
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(request.header("Accept") == "application/json")
        #expect(request.url.query == nil)
    }

    @Test func clientSecretPostPutsBothInTheBody() async throws {
        let request = try await send("google")
        #expect(request.header("Authorization") == nil)
        #expect(request.formFields["client_id"] == "id:with space")
        #expect(request.formFields["client_secret"] == "s3cr et+/:")
    }

    @Test func publicClientsSendOnlyTheirID() async throws {
        for id in ["zoom", "google"] {
            let request = try await send(id, secret: nil)
            #expect(request.header("Authorization") == nil)
            #expect(request.formFields["client_id"] == "id:with space")
            #expect(request.formFields["client_secret"] == nil)
        }
    }

    @Test func githubTokenRequestHeadersAreSentOnce() async throws {
        let request = try await send("github")
        #expect(request.headers.filter { $0.name.lowercased() == "accept" }.map(\.value) == ["application/json"])
    }

    @Test func refreshSendsTheGrantAndScopes() async throws {
        let request = try await send("linear", refresh: true)
        #expect(request.formFields["grant_type"] == "refresh_token")
        #expect(request.formFields["refresh_token"] == "rt-1")
        #expect(request.formFields["scope"] == "a,b")
    }

    @Test func refreshKeepsTheOldRefreshTokenWhenNoneComesBack() async throws {
        let provider = try Fixtures.provider("google")
        let transport = StubTransport.json(#"{"access_token":"new","expires_in":3599}"#)
        let tokens = try await OAuthClient(transport: transport, clock: Fixtures.clock).refresh(
            provider: provider,
            endpoints: try Fixtures.endpoints(provider),
            client: Fixtures.credentials(provider),
            refreshToken: "old-rt",
            scopes: nil
        )
        #expect(tokens.refreshToken == "old-rt")
        #expect(try #require(await transport.lastRequest).formFields["scope"] == nil)
    }

    @Test func tokenParamsFromTheCatalogAreSent() async throws {
        var provider = try Fixtures.provider("google")
        provider.oauth?.tokenParams = ["audience": "api.example"]
        let transport = StubTransport.json(#"{"access_token":"a"}"#)
        _ = try await OAuthClient(transport: transport, clock: Fixtures.clock).exchangeCode(
            provider: provider,
            endpoints: try Fixtures.endpoints(provider),
            client: Fixtures.credentials(provider),
            code: "c",
            redirectURI: "r",
            codeVerifier: nil
        )
        #expect(try #require(await transport.lastRequest).formFields["audience"] == "api.example")
    }

    // MARK: - Revocation

    func revoke(_ providerID: String, _ transport: StubTransport) async throws -> RevocationResult {
        let provider = try Fixtures.provider(providerID)
        return try await OAuthClient(transport: transport, clock: Fixtures.clock).revoke(
            provider: provider,
            endpoints: try Fixtures.endpoints(provider),
            client: Fixtures.credentials(provider),
            token: "tok-1",
            tokenTypeHint: "refresh_token"
        )
    }

    func revocationError(_ providerID: String, _ transport: StubTransport) async throws -> OAuthClientError? {
        let provider = try Fixtures.provider(providerID)
        let endpoints = try Fixtures.endpoints(provider)
        let client = OAuthClient(transport: transport, clock: Fixtures.clock)
        return await oauthError { () throws(OAuthClientError) in
            try await client.revoke(provider: provider, endpoints: endpoints, client: Fixtures.credentials(provider), token: "t", tokenTypeHint: nil)
        }
    }

    @Test func rfc7009RevocationPostsTheTokenWithClientAuth() async throws {
        let transport = StubTransport([OutboundResponse(status: 200)])
        #expect(try await revoke("xero", transport) == .revoked)
        let request = try #require(await transport.lastRequest)
        #expect(request.url.absoluteString == "https://identity.xero.com/connect/revocation")
        #expect(request.method == "POST")
        #expect(request.formFields == ["token": "tok-1", "token_type_hint": "refresh_token"])
        #expect(request.header("Authorization")?.hasPrefix("Basic ") == true)
    }

    @Test func slackRevocationUsesTheTokenAsBearer() async throws {
        let transport = StubTransport.json(#"{"ok":true,"revoked":true}"#)
        #expect(try await revoke("slack", transport) == .revoked)
        let request = try #require(await transport.lastRequest)
        #expect(request.url.absoluteString == "https://slack.com/api/auth.revoke")
        #expect(request.header("Authorization") == "Bearer tok-1")
        #expect(request.body == nil)
        #expect(try await revoke("slack", .json(#"{"ok":false,"error":"invalid_auth"}"#)) == .revoked)
        let error = try await revocationError("slack", .json(#"{"ok":false,"error":"ratelimited"}"#))
        #expect(error?.classification == .transient(retryAfter: nil))
    }

    @Test func githubRevocationDeletesTheGrant() async throws {
        let transport = StubTransport([OutboundResponse(status: 204)])
        #expect(try await revoke("github", transport) == .revoked)
        let request = try #require(await transport.lastRequest)
        #expect(request.method == "DELETE")
        #expect(request.url.absoluteString == "https://api.github.com/applications/client-id/grant")
        #expect(request.header("Authorization") == "Basic \(Data("client-id:client-secret".utf8).base64EncodedString())")
        #expect(JSONValue.parse(try #require(request.body)) == .object(["access_token": .string("tok-1")]))
        #expect(try await revoke("github", StubTransport([OutboundResponse(status: 404)])) == .revoked)
    }

    @Test func providersWithoutRevocationSayNotSupported() async throws {
        let transport = StubTransport([])
        #expect(try await revoke("microsoft", transport) == .notSupported)
        #expect(await transport.requests.isEmpty)
    }

    @Test func refusedRevocationThrows() async throws {
        let error = try await revocationError("zoom", .json(500, "{}"))
        #expect(error?.kind == .unexpectedStatus(500))
    }
}
