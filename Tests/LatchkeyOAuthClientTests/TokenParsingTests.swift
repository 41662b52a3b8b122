import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import Testing

/// Token answers in each provider's shape, read with the real catalog entry that has the quirk.
@Suite struct TokenParsingTests {
    let now = Fixtures.clock.now

    func exchange(_ providerID: String, _ transport: StubTransport, templateValues: [String: String] = [:]) async throws -> TokenSet {
        let provider = try Fixtures.provider(providerID)
        let client = OAuthClient(transport: transport, clock: Fixtures.clock)
        return try await client.exchangeCode(
            provider: provider,
            endpoints: try Fixtures.endpoints(provider, templateValues: templateValues),
            client: Fixtures.credentials(provider),
            code: "the-code",
            redirectURI: "https://l.example/cb",
            codeVerifier: nil
        )
    }

    func exchangeError(_ providerID: String, _ transport: StubTransport) async throws -> OAuthClientError? {
        let provider = try Fixtures.provider(providerID)
        let endpoints = try Fixtures.endpoints(provider)
        let client = OAuthClient(transport: transport, clock: Fixtures.clock)
        return await oauthError { () throws(OAuthClientError) in
            try await client.exchangeCode(
                provider: provider,
                endpoints: endpoints,
                client: Fixtures.credentials(provider),
                code: "the-code",
                redirectURI: "https://l.example/cb",
                codeVerifier: nil
            )
        }
    }

    @Test func slackUserTokenIsReadFromAuthedUser() async throws {
        let body = """
            {"ok":true,"access_token":"xoxb-bot","token_type":"bot","scope":"commands","team":{"id":"T1","name":"Acme"},
             "authed_user":{"id":"U1","scope":"channels:read,chat:write","access_token":"xoxp-user","token_type":"user",
                            "refresh_token":"xoxe-1-refresh","expires_in":43200}}
            """
        let tokens = try await exchange("slack", .json(body))
        #expect(tokens.accessToken == "xoxp-user")
        #expect(tokens.tokenType == "user")
        #expect(tokens.refreshToken == "xoxe-1-refresh")
        #expect(tokens.scopes == ["channels:read", "chat:write"])
        #expect(tokens.expiresAt == now.addingTimeInterval(43200))
        #expect(tokens.field("team.id") == "T1")
        #expect(tokens.field("authed_user.id") == "U1")
    }

    @Test func slackWithoutAUserTokenHasNoAccessToken() async throws {
        let error = try await exchangeError("slack", .json(#"{"ok":true,"access_token":"xoxb-bot","token_type":"bot"}"#))
        #expect(error == .noAccessToken)
    }

    @Test func slackOkFalseIsAProviderError() async throws {
        let error = try await exchangeError("slack", .json(#"{"ok":false,"error":"invalid_code"}"#))
        #expect(error?.kind == .providerError(code: "invalid_code", description: nil))
        #expect(error?.classification == .reauthRequired(reason: "invalid_code"))
    }

    @Test func githubFormEncodedAnswer() async throws {
        let github = try Fixtures.provider("github")
        #expect(github.oauth?.expiry.format == .never)
        let tokens = try await exchange(
            "github",
            .body(200, "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer", contentType: "application/x-www-form-urlencoded; charset=utf-8")
        )
        #expect(tokens.accessToken == "gho_abc")
        #expect(tokens.scopes == ["repo", "gist"])
        #expect(tokens.expiresAt == nil)
        #expect(tokens.refreshToken == nil)
        #expect(tokens.field("token_type") == "bearer")
        #expect(JSONValue.parse(tokens.raw)?["access_token"] == .string("gho_abc"))
    }

    @Test func githubErrorWithStatus200() async throws {
        let body = #"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#
        let error = try await exchangeError("github", .json(body))
        #expect(error?.kind == .providerError(code: "bad_verification_code", description: "The code passed is incorrect or expired."))
    }

    @Test func githubAppTokensThatExpireAreHonouredDespiteNever() async throws {
        let tokens = try await exchange(
            "github",
            .json(#"{"access_token":"ghu_1","expires_in":28800,"refresh_token":"ghr_1","token_type":"bearer"}"#)
        )
        #expect(tokens.expiresAt == now.addingTimeInterval(28800))
        #expect(tokens.refreshToken == "ghr_1")
    }

    @Test func commaSeparatedScopesFromLinearAndStrava() async throws {
        for id in ["linear", "strava"] {
            #expect(try Fixtures.provider(id).oauth?.scopeSeparator == ",")
            let tokens = try await exchange(id, .json(#"{"access_token":"a","scope":"read,write","expires_in":3600}"#))
            #expect(tokens.scopes == ["read", "write"])
        }
        let spaced = try await exchange("google", .json(#"{"access_token":"a","scope":"openid  email","expires_in":3600}"#))
        #expect(spaced.scopes == ["openid", "email"])
        let array = try await exchange("google", .json(#"{"access_token":"a","scope":["a","b"]}"#))
        #expect(array.scopes == ["a", "b"])
        let none = try await exchange("google", .json(#"{"access_token":"a"}"#))
        #expect(none.scopes == nil)
    }

    @Test func providersWithoutRefreshTokensOrExpiry() async throws {
        for id in ["intercom", "shopify"] {
            let provider = try Fixtures.provider(id)
            #expect(provider.oauth?.issuesRefreshTokens == false)
            #expect(provider.oauth?.expiry.format == .never)
            let tokens = try await exchange(id, .json(#"{"access_token":"tok","token_type":"bearer"}"#), templateValues: ["shop": "demo"])
            #expect(tokens.refreshToken == nil)
            #expect(tokens.expiresAt == nil)
        }
    }

    @Test func salesforceInstanceURLIsReadable() async throws {
        let tokens = try await exchange(
            "salesforce",
            .json(
                #"{"access_token":"00D!x","instance_url":"https://acme.my.salesforce.com","issued_at":"1700000000000","id":"https://login.salesforce.com/id/00D/005"}"#
            )
        )
        #expect(tokens.field("instance_url") == "https://acme.my.salesforce.com")
        #expect(tokens.expiresAt == nil)
    }

    @Test(
        arguments: [
            ("3600", 3600.0), ("\"3600\"", 3600.0), ("3600.0", 3600.0), ("0", nil), ("-5", nil), ("\"abc\"", nil), ("null", nil), ("true", nil),
            ("{}", nil), ("1e300", nil), ("\"\"", nil),
        ] as [(String, Double?)]
    )
    func expiresInIsReadLeniently(raw: String, seconds: Double?) async throws {
        let tokens = try await exchange("google", .json(#"{"access_token":"a","expires_in":\#(raw)}"#))
        #expect(tokens.expiresAt == seconds.map { now.addingTimeInterval($0) })
    }

    @Test func expiresInMissingMeansUnknown() async throws {
        let tokens = try await exchange("gitlab", .json(#"{"access_token":"a","created_at":1700000000,"refresh_token":"r"}"#))
        #expect(tokens.expiresAt == nil)
    }

    @Test func stringSecondsAndUnixTimeFormats() async throws {
        let transport = StubTransport.json(#"{"access_token":"a","expires_in":"7200"}"#)
        var provider = try Fixtures.provider("zoom")
        provider.oauth?.expiry = TokenExpiry(format: .stringSeconds, field: "expires_in")
        let client = OAuthClient(transport: transport, clock: Fixtures.clock)
        let endpoints = try Fixtures.endpoints(provider)
        let tokens = try await client.exchangeCode(
            provider: provider,
            endpoints: endpoints,
            client: Fixtures.credentials(provider),
            code: "c",
            redirectURI: "r",
            codeVerifier: nil
        )
        #expect(tokens.expiresAt == now.addingTimeInterval(7200))

        provider.oauth?.expiry = TokenExpiry(format: .unixTime, field: "expires_at")
        let at = Int(now.timeIntervalSince1970) + 600
        let unix = try await OAuthClient(transport: StubTransport.json(#"{"access_token":"a","expires_at":\#(at)}"#), clock: Fixtures.clock)
            .exchangeCode(
                provider: provider,
                endpoints: endpoints,
                client: Fixtures.credentials(provider),
                code: "c",
                redirectURI: "r",
                codeVerifier: nil
            )
        #expect(unix.expiresAt == Date(timeIntervalSince1970: TimeInterval(at)))
    }

    @Test func htmlAndNonJSONBodiesAreMalformed() async throws {
        let html = try await exchangeError("google", .body(200, "<html><body>Oops</body></html>", contentType: "text/html"))
        #expect(html == .malformedResponse("the answer is not JSON", status: 200))
        let text = try await exchangeError("google", .body(200, "not json", contentType: "application/json"))
        #expect(text?.kind == .malformedResponse(reason: "the answer is not JSON"))
        let array = try await exchangeError("google", .json("[1,2]"))
        #expect(array?.kind == .malformedResponse(reason: "the answer is not JSON"))
        let wrongType = try await exchangeError("google", .json(#"{"access_token":42}"#))
        #expect(wrongType == .noAccessToken)
        let badGateway = try await exchangeError("google", .body(502, "<html>Bad gateway</html>", contentType: "text/html"))
        #expect(badGateway?.kind == .unexpectedStatus(502))
        #expect(badGateway?.classification == .transient(retryAfter: nil))
    }

    @Test func oversizedBodiesAreRefused() async throws {
        let big = "{\"access_token\":\"a\",\"pad\":\"" + String(repeating: "x", count: 1 << 20) + "\"}"
        let error = try await exchangeError("google", .json(big))
        #expect(error?.kind == .transport(.responseTooLarge(host: "oauth2.googleapis.com", limit: 1 << 20)))
        #expect(error?.classification == .badResponse)
    }

    @Test func errorJSONIsAProviderError() async throws {
        let grant = try await exchangeError("google", .json(400, #"{"error":"invalid_grant","error_description":"Bad Request"}"#))
        #expect(grant?.kind == .invalidGrant)
        #expect(grant?.status == 400)
        let client = try await exchangeError("google", .json(401, #"{"error":"invalid_client"}"#))
        #expect(client?.kind == .invalidClient)
        let other = try await exchangeError("google", .json(400, #"{"error":"invalid_scope"}"#))
        #expect(other?.kind == .providerError(code: "invalid_scope", description: nil))
        let nested = try await exchangeError("google", .json(400, #"{"error":{"code":"invalid_request","message":"x"}}"#))
        #expect(nested?.kind == .providerError(code: "invalid_request", description: nil))
        let emptyBadRequest = try await exchangeError("google", .body(400, "", contentType: "text/plain"))
        #expect(emptyBadRequest?.kind == .unexpectedStatus(400))
        #expect(emptyBadRequest?.classification == .reauthRequired(reason: "the provider refused the request (HTTP 400)"))
        let limited = try await exchangeError("google", .json(429, "{}", headers: [(name: "Retry-After", value: "30")]))
        #expect(limited?.classification == .transient(retryAfter: 30))
    }

    @Test func transportFailures() async throws {
        let unreachable = try await exchangeError("google", StubTransport(failing: .unreachable(host: "oauth2.googleapis.com")))
        #expect(unreachable?.kind == .transport(.unreachable(host: "oauth2.googleapis.com")))
        #expect(unreachable?.classification == .transient(retryAfter: nil))
        let timedOut = try await exchangeError("google", StubTransport(failing: .timedOut(host: "oauth2.googleapis.com")))
        #expect(timedOut?.classification == .transient(retryAfter: nil))
    }

    @Test func idTokenClaimsAreCheckedWhenExpected() async throws {
        func jwt(_ claims: String) -> String {
            "eyJhbGciOiJub25lIn0." + Data(claims.utf8).base64URLEncodedString() + ".sig"
        }
        let provider = try Fixtures.provider("oidc")
        let endpoints = OAuthEndpoints(
            authorizationURL: URL(string: "https://idp.example/a")!,
            tokenURL: URL(string: "https://idp.example/t")!,
            issuer: "https://idp.example"
        )
        let good = jwt(#"{"iss":"https://idp.example","aud":["client-id","other"],"sub":"u1","nonce":"n1","email":"u@example.com"}"#)
        let claims = try IDTokenClaims.decode(good)
        #expect(claims.subject == "u1")
        #expect(claims.audience == ["client-id", "other"])
        #expect(throws: OAuthClientError.malformedResponse("the id_token is not a JWT")) { try IDTokenClaims.decode("abc") }

        for (token, nonce, claim) in [
            (good, "n2", "nonce"), (jwt(#"{"iss":"https://evil.example","aud":"client-id","nonce":"n1"}"#), "n1", "iss"),
            (jwt(#"{"iss":"https://idp.example","aud":"someone-else","nonce":"n1"}"#), "n1", "aud"),
        ] {
            let transport = StubTransport.json(#"{"access_token":"a","id_token":"\#(token)"}"#)
            let error = await oauthError { () throws(OAuthClientError) in
                try await OAuthClient(transport: transport, clock: Fixtures.clock).exchangeCode(
                    provider: provider,
                    endpoints: endpoints,
                    client: Fixtures.credentials(provider),
                    code: "c",
                    redirectURI: "r",
                    codeVerifier: "v",
                    nonce: nonce
                )
            }
            #expect(error == .idTokenMismatch(claim))
        }
        let transport = StubTransport.json(#"{"access_token":"a","id_token":"\#(good)"}"#)
        let tokens = try await OAuthClient(transport: transport, clock: Fixtures.clock).exchangeCode(
            provider: provider,
            endpoints: endpoints,
            client: Fixtures.credentials(provider),
            code: "c",
            redirectURI: "r",
            codeVerifier: "v",
            nonce: "n1"
        )
        #expect(tokens.idToken == good)
    }
}
