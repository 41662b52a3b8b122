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

/// The authorization server's settings and the people's and administrators' side of it: Authorized apps, connect
/// first, static clients, limits and the audit log.
@Suite("OAuth authorization server: settings and administration")
struct OAuthServerSettingsTests {
    typealias Flow = OAuthServerTests
    static let verifier = Flow.verifier
    static let redirect = Flow.redirect
    static var issuer: String { Flow.issuer }

    static func withAlice(
        _ kind: TestDatabases.Kind,
        _ run: @Sendable (WebBrowser, TestFixture, any TestClientProtocol, User) async throws -> Void
    ) async throws {
        try await Flow.withAlice(kind, run)
    }

    static func register(_ client: any TestClientProtocol, _ metadata: [String: Any]) async throws -> TestResponse {
        try await Flow.register(client, metadata)
    }

    static func form(
        _ client: any TestClientProtocol,
        _ uri: String,
        _ fields: [String: String],
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        try await Flow.form(client, uri, fields, headers: headers)
    }

    static func authorizeURI(clientID: String, redirect: String = redirect, extra: [String: String] = [:]) -> String {
        Flow.authorizeURI(clientID: clientID, redirect: redirect, extra: extra)
    }

    static func query(_ location: String?) -> [String: String] { Flow.query(location) }

    @Test(arguments: TestDatabases.kinds)
    func authorizedAppsListChangeServicesAndRevoke(kind: TestDatabases.Kind) async throws {
        try await Self.withAlice(kind) { browser, fixture, client, user in
            let registered = ["redirect_uris": [Self.redirect], "token_endpoint_auth_method": "none", "client_name": "Helper Bot"] as [String: Any]
            let id = try #require(try await Self.register(client, registered).json["client_id"] as? String)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let authorize = Self.authorizeURI(clientID: id)
            _ = try await browser.get(authorize)
            var fields = Self.query("?" + (URLComponents(string: authorize)?.percentEncodedQuery ?? ""))
            fields["decision"] = "approve"
            // Nothing ticked: the page asks again, nothing is issued.
            let none = try await browser.post("/oauth/authorize", fields)
            #expect(none.status == .unprocessableContent && none.text.contains("Tick at least one service"))
            fields["service.sandbox"] = "on"
            let code = try #require(Self.query(try await browser.post("/oauth/authorize", fields).location)["code"])
            let tokens = try await Self.form(
                client,
                "/oauth/token",
                ["grant_type": "authorization_code", "code": code, "code_verifier": Self.verifier, "client_id": id]
            ).json
            let access = try #require(tokens["access_token"] as? String)
            _ = try await fixture.runtime.authorizationServer().verifyAccessToken(access)
            let page = try await browser.get("/settings/authorized-apps")
            #expect(page.status == .ok && page.text.contains("Helper Bot"))
            let grantID = try #require(try await fixture.runtime.authorizationServer().grants(of: user.id).first?.id)
            #expect(!page.text.contains("last used never"))
            // Taking the service away: the token stays valid but grants no service.
            #expect(try await browser.post("/settings/authorized-apps/\(grantID)/services", [:]).location == "/settings/authorized-apps")
            #expect(try await fixture.runtime.authorizationServer().verifyAccessToken(access)?.services == [])
            // Revoking: the token stops working at once.
            let revoked = try await browser.post("/settings/authorized-apps/\(grantID)/revoke")
            #expect(revoked.location == "/settings/authorized-apps")
            #expect(try await fixture.runtime.authorizationServer().verifyAccessToken(access) == nil)
            #expect(try await browser.get("/settings/authorized-apps").text.contains("No application is authorized"))
            #expect(try await browser.post("/settings/authorized-apps/\(grantID)/revoke").status == .notFound)
        }
    }

    @Test func tokenRateIsConfigurable() async throws {
        var configuration = try TestDatabases.configuration(.sqlite)
        #expect(configuration.oauthTokenRate == 300)
        try configuration.applyEnvironment(["LATCHKEY_OAUTH_TOKEN_RATE": "100000"])
        #expect(configuration.oauthTokenRate == 100_000)
        for value in ["0", "-1", "1000001", "lots"] {
            var other = try TestDatabases.configuration(.sqlite)
            #expect(throws: ConfigurationError.self) { try other.applyEnvironment(["LATCHKEY_OAUTH_TOKEN_RATE": value]) }
        }
        let statuses = try await TestApp.with(
            .sqlite,
            configure: { $0.oauthTokenRate = 5 },
            { client, _ in
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<6 {
                    let form = ["grant_type": "refresh_token", "refresh_token": "x", "client_id": "lk_dc_a"]
                    statuses.append(try await Self.form(client, "/oauth/token", form).status)
                }
                return statuses
            }
        )
        #expect(statuses == Array(repeating: .unauthorized, count: 5) + [.tooManyRequests])
    }

    @Test func accessTokenLifetimeIsConfigurable() async throws {
        var configuration = try TestDatabases.configuration(.sqlite)
        try configuration.applyEnvironment(["LATCHKEY_OAUTH_ACCESS_TOKEN_TTL": "120"])
        #expect(configuration.oauthAccessTokenLifetime == 120)
        for value in ["0", "59", "86401", "an hour"] {
            var other = try TestDatabases.configuration(.sqlite)
            #expect(throws: ConfigurationError.self) { try other.applyEnvironment(["LATCHKEY_OAUTH_ACCESS_TOKEN_TTL": value]) }
        }
        let lifetime = try await TestApp.with(
            .sqlite,
            configure: { $0.oauthAccessTokenLifetime = 120 },
            { _, fixture in
                fixture.runtime.authorizationServer().settings.accessTokenLifetime
            }
        )
        #expect(lifetime == 120)
    }

    @Test func connectFirstRemembersOnlyALocalConsentPage() async throws {
        try await Self.withAlice(.sqlite) { browser, _, client, _ in
            let id = try #require(
                try await Self.register(client, ["redirect_uris": [Self.redirect], "token_endpoint_auth_method": "none"]).json["client_id"] as? String
            )
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let consent = try await browser.get(Self.authorizeURI(clientID: id))
            let link = try #require(
                consent.text.range(of: #"/connections\?return=[^"]+"#, options: .regularExpression).map { String(consent.text[$0]) }
            )
            let center = try await browser.get(link.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(center.headers[values: .setCookie].contains { $0.hasPrefix("latchkey_return=") && $0.contains("HttpOnly") })
            #expect(center.text.contains("taken back to the application"))
            for hostile in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example%2Foauth%2Fauthorize%3Fx", "%2Fconnections"] {
                let page = try await browser.get("/connections?return=" + hostile)
                #expect(!page.headers[values: .setCookie].contains { $0.hasPrefix("latchkey_return=") }, "\(hostile)")
            }
        }
    }

    @Test func tokenEndpointIsRateLimitedPerClientAndAddress() async throws {
        try await TestApp.with(.sqlite) { client, _ in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<301 {
                statuses.append(
                    try await Self.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": "x", "client_id": "lk_dc_a"]).status
                )
            }
            #expect(statuses.dropLast().allSatisfy { $0 == .unauthorized })
            let limited = try await Self.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": "x", "client_id": "lk_dc_a"])
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
            // Another client from the same address is not held up.
            let other = try await Self.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": "x", "client_id": "lk_dc_b"])
            #expect(other.status == .unauthorized)
        }
    }

    @Test func everyStepIsAuditedWithoutSecrets() async throws {
        try await Self.withAlice(.sqlite) { browser, fixture, client, _ in
            let (id, code, tokens) = try await Flow.consentedTokens(browser, client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let access = try #require(tokens["access_token"] as? String)
            let rotated = try await Self.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": id]).json
            _ = try await Self.form(client, "/oauth/revoke", ["token": try #require(rotated["refresh_token"] as? String), "client_id": id])
            _ = try await browser.post("/logout")
            let export = try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers).text
            for action in ["oauth.client.register", "oauth.consent", "oauth.token.issue", "oauth.token.refresh", "oauth.token.revoke"] {
                #expect(export.contains("\"\(action)\""), "\(action)")
            }
            for secret in [code, access, refresh, try #require(rotated["access_token"] as? String)] {
                #expect(!export.contains(secret))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func administratorsRegisterListAndDeleteStaticClients(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await client.execute(
                uri: "/api/v1/oauth/clients",
                method: .post,
                headers: fixture.headers,
                body: try body(["name": "Team assistant", "redirectUris": [Self.redirect], "confidential": true])
            )
            #expect(created.status == .created, "\(created.text)")
            let json = try created.json
            let id = try #require(json["id"] as? String)
            let secret = try #require(json["clientSecret"] as? String)
            #expect(id.hasPrefix("lk_sc_") && json["tokenEndpointAuthMethod"] as? String == "client_secret_basic")
            // The secret authenticates at the token endpoint (HTTP Basic); the list never shows it again.
            let basic = "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
            let token = try await Self.form(
                client,
                "/oauth/token",
                ["grant_type": "refresh_token", "refresh_token": "x"],
                headers: [.authorization: basic]
            )
            #expect(try token.json["error"] as? String == "invalid_grant")
            let list = try await client.execute(uri: "/api/v1/oauth/clients", method: .get, headers: fixture.headers)
            #expect(list.text.contains(id) && !list.text.contains(secret))
            let bad = try await client.execute(
                uri: "/api/v1/oauth/clients",
                method: .post,
                headers: fixture.headers,
                body: try body(["name": "Bad", "redirectUris": ["http://assistant.example/cb"]])
            )
            #expect(bad.status == .badRequest && bad.text.contains("redirectUris"))
            #expect(try await client.execute(uri: "/api/v1/oauth/clients/\(id)", method: .delete, headers: fixture.headers).status == .noContent)
            #expect(try await client.execute(uri: "/api/v1/oauth/clients/\(id)", method: .delete, headers: fixture.headers).status == .notFound)
            let gone = try await Self.form(
                client,
                "/oauth/token",
                ["grant_type": "refresh_token", "refresh_token": "x"],
                headers: [.authorization: basic]
            )
            #expect(gone.status == .unauthorized)
        }
    }
}
