import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

@Suite("Token and health API")
struct TokenAndHealthAPITests {
    static let catalog = try! ProviderCatalog.bundled()

    /// An app with GitLab played by a FakeProvider, and a way to connect accounts through it.
    static func with<T: Sendable>(
        _ kind: TestDatabases.Kind = .sqlite,
        _ body: @Sendable (any TestClientProtocol, TestFixture, FakeProvider, TestClock) async throws -> T
    ) async throws -> T {
        let clock = TestClock()
        let provider = try #require(catalog.provider(id: "gitlab"))
        let fake = try FakeProvider(provider: provider, clock: clock)
        return try await TestApp.with(kind, clock: clock, transport: FakeNetwork([fake])) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "gitlab", provider: "gitlab", clientID: "fake-client-id", clientSecret: "fake-client-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            return try await body(client, fixture, fake, clock)
        }
    }

    /// Real tokens from the fake, imported for `user` with an expiry.
    static func importAccount(
        _ client: any TestClientProtocol,
        _ fixture: TestFixture,
        _ fake: FakeProvider,
        user: String?,
        expiresAt: String
    ) async throws -> String {
        let provider = fake.provider
        let verifier = PKCE.makeVerifier()
        let url = AuthorizationRequest(
            provider: provider,
            endpoints: fake.endpoints,
            clientID: "fake-client-id",
            redirectURI: "https://latchkey.example/connect/callback",
            scopes: ["read_user"],
            state: "s",
            codeChallenge: PKCE.challenge(for: verifier),
            nonce: nil
        ).url
        let callback = try await fake.authorize(url: url, accountID: user ?? "shared")
        let code = try #require(queryOf(callback)["code"])
        let tokens = try await OAuthClient(transport: fake, clock: SystemClock()).exchangeCode(
            provider: provider,
            endpoints: fake.endpoints,
            client: .init(clientID: "fake-client-id", clientSecret: "fake-client-secret", method: provider.oauth!.clientAuth),
            code: code,
            redirectURI: "https://latchkey.example/connect/callback",
            codeVerifier: verifier
        )
        var object: [String: Any] = [
            "integration": "gitlab", "type": "oauth2", "accessToken": tokens.accessToken, "refreshToken": tokens.refreshToken ?? "",
            "expiresAt": expiresAt,
        ]
        if let user { object["externalUserId"] = user }
        let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: try body(object))
        #expect(created.status == .created)
        return try #require(try created.json["id"] as? String)
    }

    @Test(arguments: TestDatabases.kinds)
    func theTokenRouteRefreshesWhenNeededAndExplainsWhatToDoOtherwise(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, fake, clock in
            func token(_ object: [String: Any]) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/credentials/token", method: .post, headers: fixture.headers, body: try body(object))
            }
            let none = try await token(["integration": "gitlab", "externalUserId": "alice"])
            #expect(none.status == .conflict)
            #expect(none.errorCode == "not_connected")
            let id = try await Self.importAccount(client, fixture, fake, user: "alice", expiresAt: "2020-01-01T00:00:00Z")
            let fresh = try await token(["integration": "gitlab", "externalUserId": "alice"])
            #expect(fresh.status == .ok)
            #expect(try fresh.json["credentialId"] as? String == id)
            #expect(try fresh.json["tokenType"] as? String == "Bearer")
            #expect(await fake.refreshCount == 1)
            let accessToken = try #require(try fresh.json["accessToken"] as? String)
            // Fresh enough: handed out as it is, by id too.
            let again = try await token(["integration": "gitlab", "credentialId": id])
            #expect(try again.json["accessToken"] as? String == accessToken)
            #expect(await fake.refreshCount == 1)
            // Someone else's id, or another integration's, is refused.
            #expect(try await token(["integration": "gitlab", "credentialId": id, "externalUserId": "bob"]).status == .notFound)
            #expect(try await token(["integration": "github", "credentialId": id]).status == .badRequest)
            #expect(try await token(["integration": "gitlab", "extra": 1]).status == .badRequest)
            // The grant is revoked at the provider: "Please reconnect".
            await fake.revokeAllGrants()
            clock.advance(by: 7200)
            let dead = try await token(["integration": "gitlab", "externalUserId": "alice"])
            #expect(dead.status == .conflict)
            #expect(dead.errorCode == "needs_reauth")
            #expect(dead.text.contains("Please reconnect"))
            let listed = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: fixture.headers)
            #expect(try listed.json["status"] as? String == "needs_reauth")
            // Token retrievals are audited, without the token.
            let audit = try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers)
            #expect(audit.text.contains("credential.token"))
            #expect(audit.text.contains("credential.refresh"))
            #expect(!audit.text.contains(accessToken))
        }
    }

    @Test func aUserWithoutAnAccountFallsBackToTheSharedCredential() async throws {
        try await Self.with { client, fixture, fake, _ in
            let shared = try await Self.importAccount(client, fixture, fake, user: nil, expiresAt: "2099-01-01T00:00:00Z")
            let answer = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "gitlab", "externalUserId": "carol"])
            )
            #expect(try answer.json["credentialId"] as? String == shared)
        }
    }

    @Test func connectionsReportHealthFromCredentialsAndTheProbe() async throws {
        try await Self.with { client, fixture, fake, _ in
            var ids: [String] = []
            for index in 0..<10 {
                ids.append(try await Self.importAccount(client, fixture, fake, user: "user-\(index)", expiresAt: "2099-01-01T00:00:00Z"))
            }
            func connection() async throws -> [String: Any] {
                let list = try await client.execute(uri: "/api/v1/connections", method: .get, headers: fixture.headers)
                let items = try list.json["items"] as? [[String: Any]]
                return try #require(items?.first)
            }
            #expect(try await connection()["health"] as? String == "healthy")
            for id in ids.prefix(2) {
                _ = try await fixture.runtime.vault.update(id: id, tenantID: fixture.tenantID, changes: .init(status: .needsReauth), actor: .cli)
            }
            var current = try await connection()
            #expect(current["health"] as? String == "degraded")
            #expect(current["reasons"] as? [String] == ["some_credentials_unusable"])
            #expect((current["counts"] as? [String: Any])?["needsReauth"] as? Int == 2)
            // The provider probe: healthy, then failing.
            let connectionID = try #require(current["id"] as? String)
            let stored = try #require(try await fixture.runtime.tenants.directory.connection(id: connectionID, tenantID: fixture.tenantID))
            let oauth = OAuthClient(transport: fake, clock: fixture.runtime.clock)
            let resolver = ProviderResolver(catalog: Self.catalog, integrations: fixture.runtime.integrations)
            let monitor = HealthMonitor(
                vault: fixture.runtime.vault,
                resolver: resolver,
                coordinator: RefreshCoordinator(
                    vault: fixture.runtime.vault,
                    resolver: resolver,
                    oauth: oauth,
                    clock: fixture.runtime.clock,
                    logger: fixture.logs.logger()
                ),
                oauth: oauth,
                clock: fixture.runtime.clock
            )
            #expect(try await monitor.probe(stored) == .healthy)
            await fake.expireAccessTokens()
            #expect(try await monitor.probe(stored) == .unauthorized)
            #expect(await monitor.probes.failureRate(integrationID: stored.integrationID) == 0)  // a refused token is not the provider's fault
            let probed = try await monitor.health(of: stored)
            #expect(probed.state == .degraded)
            let single = try await client.execute(uri: "/api/v1/connections/\(connectionID)", method: .get, headers: fixture.headers)
            #expect(try single.json["id"] as? String == connectionID)
            current = try await connection()
            #expect(current["health"] as? String == "degraded")
            // A refused OAuth client makes it unhealthy, with the reason.
            try await fixture.runtime.integrations.setStatus(
                key: "gitlab",
                tenantID: fixture.tenantID,
                status: .misconfigured,
                reason: "invalid_client"
            )
            current = try await connection()
            #expect(current["health"] as? String == "unhealthy")
            #expect((current["reasons"] as? [String])?.contains("integration_misconfigured") == true)
            // The admin page shows it too.
            try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "admin@example.com", password: "correct-horse-battery")
            let page = try await browser.get("/admin/connections")
            #expect(page.text.contains("more than 10% of the connected accounts need reconnecting"))
        }
    }
}
