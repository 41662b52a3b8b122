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
import Logging
import Testing

/// What administrators see when refresh goes wrong: the banner for a refused OAuth client, the shared circuit in
/// connection health, and a log line for every background refresh that failed.
@Suite("Refresh alerts")
struct RefreshAlertsTests {
    @Test func aRefusedClientPutsABannerOnTheAdminPagesUntilItIsFixed() async throws {
        try await TokenAndHealthAPITests.with { client, fixture, _, _ in
            try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "admin@example.com", password: "correct-horse-battery")
            let clean = try await browser.get("/admin/integrations")
            #expect(!clean.text.contains("refused this server&#39;s OAuth client") && !clean.text.contains("refused this server's OAuth client"))
            let integration = try #require(try await fixture.runtime.integrations.integrations.find(key: "gitlab", tenantID: fixture.tenantID))
            try await fixture.runtime.integrations.markMisconfigured(integration, reason: "invalid_client")
            for path in ["/admin/integrations", "/admin/connections"] {
                let page = try await browser.get(path)
                #expect(page.text.contains("role=\"alert\""), "\(path)")
                #expect(page.text.contains("GitLab refused this server"), "\(path)")
                #expect(page.text.contains("integration gitlab"), "\(path)")
            }
            // A new client secret clears it.
            _ = try await fixture.runtime.integrations.update(
                key: "gitlab",
                tenantID: fixture.tenantID,
                changes: .init(clientSecret: .some("a-new-secret")),
                actor: .cli
            )
            #expect(!(try await browser.get("/admin/integrations").text.contains("GitLab refused this server")))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func connectionHealthReadsTheCircuitEveryInstanceShares(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, clock in
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            let integration = try #require(try await fixture.runtime.integrations.integrations.find(key: "gitlab", tenantID: fixture.tenantID))
            // Another instance counted five failures: this one reports the pause without having seen any.
            let elsewhere = CircuitBreaker(store: CircuitRepository(database: fixture.runtime.database), clock: clock)
            for _ in 0..<5 { try await elsewhere.record(.failed, for: integration) }
            func connection() async throws -> [String: Any] {
                let list = try await client.execute(uri: "/api/v1/connections", method: .get, headers: fixture.headers)
                return try #require((try list.json["items"] as? [[String: Any]])?.first)
            }
            var current = try await connection()
            #expect(current["health"] as? String == "unhealthy")
            #expect((current["reasons"] as? [String])?.contains("circuit_open") == true)
            clock.advance(by: 31)
            current = try await connection()
            #expect((current["reasons"] as? [String])?.contains("circuit_open") == false)
        }
    }

    @Test func aFailedBackgroundRefreshLeavesALogLineWithoutSecrets() async throws {
        try await TokenAndHealthAPITests.with { client, fixture, fake, clock in
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2000-01-01T00:00:00Z")
            let secret = try #require(try await fixture.runtime.vault.load(id: id, tenantID: fixture.tenantID)?.secret)
            await fake.revokeAllGrants()
            let oauth = OAuthClient(transport: fake, clock: clock)
            let resolver = ProviderResolver(catalog: TokenAndHealthAPITests.catalog, integrations: fixture.runtime.integrations)
            let logger = fixture.logs.logger()
            let service = RefreshService(
                coordinator: RefreshCoordinator(vault: fixture.runtime.vault, resolver: resolver, oauth: oauth, clock: clock, logger: logger),
                vault: fixture.runtime.vault,
                clock: clock,
                logger: logger
            )
            #expect(try await service.runOnce() == 0)
            let logs = fixture.logs.text
            #expect(logs.contains("background refresh failed"))
            #expect(logs.contains(id))
            #expect(logs.contains("needs_reauth"))
            for value in [secret.accessToken, secret.refreshToken].compactMap({ $0 }) { #expect(!logs.contains(value)) }
        }
    }
}
