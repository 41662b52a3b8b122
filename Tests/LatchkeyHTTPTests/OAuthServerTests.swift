import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAuthServer
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import NIOCore
import Testing

/// The authorization server over HTTP: discovery, registration, consent in the console, tokens, revocation.
@Suite("OAuth authorization server")
struct OAuthServerTests {
    static let verifier = "verifier-0123456789-0123456789-0123456789-abcdef"
    static let redirect = "https://client.example/cb"

    /// Alice signed in, with a sandbox credential (the integration `sandbox`) and an enabled integration she has not
    /// connected (`corp`).
    static func withAlice(
        _ kind: TestDatabases.Kind,
        _ run: @Sendable (WebBrowser, TestFixture, any TestClientProtocol, User) async throws -> Void
    ) async throws {
        try await TestApp.with(kind) { client, fixture in
            try await TestIntegrations.sandbox(fixture)
            try await FormActionPolicyTests.enable(fixture, key: "openai", provider: "openai", displayName: "Team OpenAI")
            let user = try await TestUsers.create(fixture, email: "alice@example.com")
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "sandbox", "type": "oauth2", "accessToken": "sandbox-alice-token", "externalUserId": user.id])
            )
            #expect(imported.status == .created, "\(imported.text)")
            let browser = WebBrowser(client)
            try await run(browser, fixture, client, user)
        }
    }

    static func register(_ client: any TestClientProtocol, _ metadata: [String: Any]) async throws -> TestResponse {
        try await client.execute(
            uri: "/oauth/register",
            method: .post,
            headers: [.contentType: "application/json"],
            body: try body(metadata)
        )
    }

    static func form(
        _ client: any TestClientProtocol,
        _ uri: String,
        _ fields: [String: String],
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var components = URLComponents()
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        var all = headers
        all[.contentType] = "application/x-www-form-urlencoded"
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return try await client.execute(uri: uri, method: .post, headers: all, body: ByteBuffer(string: encoded))
    }

    /// The issuer of the test application (its public URL).
    static let issuer: String = {
        (try? TestDatabases.configuration(.sqlite).effectivePublicURL) ?? ""
    }()

    static func authorizeURI(clientID: String, redirect: String = redirect, extra: [String: String] = [:]) -> String {
        var components = URLComponents()
        components.path = "/oauth/authorize"
        var fields = [
            "response_type": "code", "client_id": clientID, "redirect_uri": redirect, "state": "st-1",
            "code_challenge": PKCE.challenge(for: verifier), "code_challenge_method": "S256", "scope": "claudeai",
            "resource": issuer + "/mcp",
        ]
        for (key, value) in extra { fields[key] = value }
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return components.string!
    }

    static func query(_ location: String?) -> [String: String] {
        Dictionary(
            (URLComponents(string: location ?? "")?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { a, _ in a }
        )
    }

    /// A client registered, Alice signed in and consenting to her sandbox service, the code exchanged: the client id
    /// the code and the token response.
    static func consentedTokens(
        _ browser: WebBrowser,
        _ client: any TestClientProtocol
    ) async throws -> (clientID: String, code: String, tokens: [String: Any]) {
        let id = try #require(
            try await register(client, ["redirect_uris": [redirect], "token_endpoint_auth_method": "none"]).json["client_id"] as? String
        )
        _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
        let authorize = authorizeURI(clientID: id)
        _ = try await browser.get(authorize)
        var fields = query("?" + (URLComponents(string: authorize)?.percentEncodedQuery ?? ""))
        fields["service.sandbox"] = "on"
        fields["decision"] = "approve"
        let code = try #require(query(try await browser.post("/oauth/authorize", fields).location)["code"])
        let tokens = try await form(
            client,
            "/oauth/token",
            ["grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": id]
        ).json
        return (id, code, tokens)
    }

    @Test func discoveryDocumentsShareOneIssuerAndHaveNoSlashRedirects() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let server = try await client.execute(uri: "/.well-known/oauth-authorization-server", method: .get)
            #expect(server.status == .ok)
            let metadata = try server.json
            let issuer = try #require(metadata["issuer"] as? String)
            #expect(metadata["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect((metadata["token_endpoint_auth_methods_supported"] as? [String])?.contains("none") == true)
            #expect(metadata["client_id_metadata_document_supported"] as? Bool == true)
            #expect(metadata["authorization_response_iss_parameter_supported"] as? Bool == true)
            #expect(metadata["grant_types_supported"] as? [String] == ["authorization_code", "refresh_token"])
            #expect(metadata["registration_endpoint"] as? String == issuer + "/oauth/register")
            let openid = try await client.execute(uri: "/.well-known/openid-configuration", method: .get)
            #expect(String(buffer: openid.body) == String(buffer: server.body))
            for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"] {
                let resource = try await client.execute(uri: path, method: .get).json
                #expect(resource["resource"] as? String == issuer + "/mcp")
                #expect(resource["authorization_servers"] as? [String] == [issuer])
                #expect(resource["bearer_methods_supported"] as? [String] == ["header"])
                #expect(resource["scopes_supported"] as? [String] == ["mcp:tools"])
            }
            // A trailing slash is never answered with a redirect.
            for path in ["/.well-known/oauth-authorization-server/", "/oauth/token/", "/oauth/register/", "/oauth/authorize/"] {
                let slash = try await client.execute(uri: path, method: path.hasSuffix("authorize/") ? .get : .post)
                #expect(!(300..<400).contains(slash.status.code), "\(path)")
                #expect(slash.headers[.location] == nil)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func registrationIsPersistedAndRefusesUnsafeRedirects(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await Self.register(
                client,
                ["redirect_uris": [Self.redirect], "client_name": "Client", "token_endpoint_auth_method": "none"]
            )
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.cacheControl] == "no-store")
            let json = try created.json
            let id = try #require(json["client_id"] as? String)
            #expect(json["client_secret"] == nil)
            // Persisted: a new server over the same database knows the client.
            #expect(try await fixture.runtime.authorizationServer().client(id: id)?.redirectURIs == [Self.redirect])
            let confidential = try await Self.register(client, ["redirect_uris": [Self.redirect]]).json
            #expect((confidential["client_secret"] as? String)?.hasPrefix("lk_ocs_") == true)
            #expect(confidential["client_secret_expires_at"] as? Int == 0)
            for bad in ["http://client.example/cb", "https://client.example/cb#x", "https://u:p@client.example/cb", "javascript:alert(1)"] {
                let refused = try await Self.register(client, ["redirect_uris": [bad]])
                #expect(refused.status == .badRequest)
                #expect(try refused.json["error"] as? String == "invalid_redirect_uri", "\(bad)")
            }
            let garbage = try await client.execute(uri: "/oauth/register", method: .post, body: ByteBuffer(string: "not json"))
            #expect(try garbage.json["error"] as? String == "invalid_client_metadata")
        }
    }

    @Test func registrationIsRateLimitedPerAddress() async throws {
        try await TestApp.with(.sqlite) { client, _ in
            var last: TestResponse?
            for _ in 0..<21 { last = try await Self.register(client, ["redirect_uris": ["https://c.example/cb"]]) }
            let limited = try #require(last)
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
        }
    }

    @Test func unknownClientOrRedirectIsAPageNotARedirect() async throws {
        try await Self.withAlice(.sqlite) { browser, _, client, _ in
            let id = try #require(
                try await Self.register(client, ["redirect_uris": [Self.redirect], "token_endpoint_auth_method": "none"]).json["client_id"] as? String
            )
            let unknown = try await browser.get(Self.authorizeURI(clientID: "lk_dc_unknown"))
            #expect(unknown.status == .badRequest && unknown.location == nil)
            #expect(unknown.text.contains("not registered"))
            for variant in ["https://client.example/cb/", "https://Client.example/cb", "https://evil.example/cb", "http://client.example/cb"] {
                let page = try await browser.get(Self.authorizeURI(clientID: id, redirect: variant))
                #expect(page.status == .badRequest && page.location == nil, "\(variant)")
            }
            // A PKCE downgrade goes back to the client, with state and iss.
            let plain = try await browser.get(Self.authorizeURI(clientID: id, extra: ["code_challenge_method": "plain"]))
            #expect(plain.status == .seeOther)
            let query = Self.query(plain.location)
            #expect(query["error"] == "invalid_request" && query["state"] == "st-1" && query["iss"] == Self.issuer)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func signInConsentCodeTokenRefreshRevokeAndIntrospect(kind: TestDatabases.Kind) async throws {
        try await Self.withAlice(kind) { browser, fixture, client, user in
            let id = try #require(
                try await Self.register(client, ["redirect_uris": [Self.redirect], "token_endpoint_auth_method": "none"]).json["client_id"] as? String
            )
            let authorize = Self.authorizeURI(clientID: id)
            // Not signed in: to the sign-in page, which comes back here.
            let toLogin = try await browser.get(authorize)
            #expect(toLogin.status == .seeOther)
            let next = try #require(Self.query(toLogin.location)["next"])
            #expect(next == authorize)
            _ = try await browser.get("/login")
            let signedIn = try await browser.post("/login", ["email": "alice@example.com", "password": "correct-horse-battery", "next": next])
            #expect(signedIn.location == authorize)
            // The consent page: not frameable, no referrer, its form may lead to the client's origin only.
            let consent = try await browser.get(authorize)
            #expect(consent.status == .ok)
            #expect(consent.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(consent.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(try FormActionPolicyTests.formAction(consent.headers) == ["'self'", "https://client.example"])
            #expect(consent.text.contains(#"name="service.sandbox""#))
            #expect(consent.text.contains("Team OpenAI") && consent.text.contains("connect first"))
            var fields = Self.query("?" + (URLComponents(string: authorize)?.percentEncodedQuery ?? ""))
            fields["service.sandbox"] = "on"
            fields["decision"] = "approve"
            // Without the CSRF token: refused, nothing issued.
            let forged = try await browser.post("/oauth/authorize", fields, csrf: false)
            #expect(forged.status == .forbidden)
            let approved = try await browser.post("/oauth/authorize", fields)
            #expect(approved.status == .seeOther)
            let back = Self.query(approved.location)
            #expect(approved.location?.hasPrefix(Self.redirect + "?") == true)
            #expect(back["state"] == "st-1" && back["iss"] == Self.issuer)
            let code = try #require(back["code"])

            let exchange = [
                "grant_type": "authorization_code", "code": code, "code_verifier": Self.verifier, "client_id": id, "redirect_uri": Self.redirect,
            ]
            let issued = try await Self.form(client, "/oauth/token", exchange)
            #expect(issued.status == .ok, "\(issued.text)")
            #expect(issued.headers[.cacheControl] == "no-store")
            let tokens = try issued.json
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            #expect(tokens["scope"] as? String == "mcp:tools" && tokens["token_type"] as? String == "Bearer")
            let verified = try #require(try await fixture.runtime.authorizationServer().verifyAccessToken(access))
            #expect(verified.userID == user.id && verified.services == ["sandbox"] && verified.resource == Self.issuer + "/mcp")
            // The code again: invalid_grant, and what it issued is revoked.
            let replay = try await Self.form(client, "/oauth/token", exchange)
            #expect(replay.status == .badRequest)
            #expect(try replay.json["error"] as? String == "invalid_grant")
            let introspected = try await Self.form(client, "/oauth/introspect", ["token": access], headers: fixture.headers)
            #expect(try introspected.json["active"] as? Bool == false)
            let reused = try await Self.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": id])
            #expect(try reused.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func refreshRevokeIntrospectAndSignOut() async throws {
        try await Self.withAlice(.sqlite) { browser, fixture, client, _ in
            let (id, _, tokens) = try await Self.consentedTokens(browser, client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let rotated = try await Self.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": id]).json
            let access = try #require(rotated["access_token"] as? String)
            let active = try await Self.form(client, "/oauth/introspect", ["token": access], headers: fixture.headers).json
            #expect(active["active"] as? Bool == true && active["client_id"] as? String == id && active["aud"] as? String == Self.issuer + "/mcp")
            // Introspection needs a key.
            #expect(try await Self.form(client, "/oauth/introspect", ["token": access]).status == .unauthorized)
            // An unknown client is told to register again.
            let unknown = try await Self.form(
                client,
                "/oauth/token",
                ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": "lk_dc_gone"]
            )
            #expect(unknown.status == .unauthorized)
            #expect(try unknown.json["error"] as? String == "invalid_client")
            let other = try await Self.form(client, "/oauth/token", ["grant_type": "password", "client_id": id])
            #expect(try other.json["error"] as? String == "unsupported_grant_type")
            // Sign-out revokes the grant, and the page says so.
            let out = try await browser.post("/logout")
            #expect(out.location == "/login?signed_out=1")
            #expect(try await browser.get(try #require(out.location)).text.contains("can no longer use your services"))
            #expect(try await fixture.runtime.authorizationServer().verifyAccessToken(access) == nil)
            let gone = try await Self.form(
                client,
                "/oauth/token",
                ["grant_type": "refresh_token", "refresh_token": try #require(rotated["refresh_token"] as? String), "client_id": id]
            )
            #expect(try gone.json["error"] as? String == "invalid_grant")
        }
    }
}
