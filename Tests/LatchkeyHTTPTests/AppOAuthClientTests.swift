import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// An app's own OAuth client: connects through the app use it, and the credentials they store keep using it for
/// refresh and revocation (by `issued_by`), while the integration's client stays for everyone else. GitLab is played by
/// a FakeProvider that knows only the app's client id.
@Suite("Per-app OAuth client")
struct AppOAuthClientTests {
    static let catalog = try! ProviderCatalog.bundled()

    static func with(
        _ kind: TestDatabases.Kind,
        _ body: @Sendable (any TestClientProtocol, TestFixture, FakeProvider, TestClock) async throws -> Void
    ) async throws {
        let clock = TestClock()
        let fake = try FakeProvider(
            provider: try #require(catalog.provider(id: "gitlab")),
            clientID: "app-client-id",
            clientSecret: "app-client-secret",
            clock: clock
        )
        try await TestApp.with(kind, clock: clock, transport: FakeNetwork([fake])) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "gitlab", provider: "gitlab", clientID: "integration-client-id", clientSecret: "integration-client-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            try await body(client, fixture, fake, clock)
        }
    }

    static func setConfig(_ client: any TestClientProtocol, _ fixture: TestFixture, appID: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/apps/\(appID)/integrations/gitlab/config",
            method: .put,
            headers: fixture.headers,
            body: try body(["clientId": "app-client-id", "clientSecret": "app-client-secret", "scopes": ["read_user"]])
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func aConnectThroughTheAppUsesItsClientAndItsRefreshToo(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, fake, clock in
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let set = try await Self.setConfig(client, fixture, appID: console.id)
            #expect(set.status == .created)
            #expect(try set.json["hasClientSecret"] as? Bool == true)
            #expect(!set.text.contains("app-client-secret"))
            let shown = try await client.execute(uri: "/api/v1/apps/\(console.id)/integrations/gitlab/config", method: .get, headers: fixture.headers)
            #expect(try shown.json["clientId"] as? String == "app-client-id" && !shown.text.contains("app-client-secret"))
            let raw = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT client_secret FROM app_integration_configs").first()?.decode(column: "client_secret", as: Data.self)
            }
            #expect(raw != nil && !String(decoding: raw!, as: UTF8.self).contains("app-client-secret"))

            let user = try await fixture.runtime.tenants.createUser(
                tenantID: fixture.tenantID,
                email: "sarah@example.com",
                displayName: "Sarah",
                passwordHash: "not used",
                isAdmin: false,
                actor: .cli
            )
            let outbound = fixture.runtime.outboundServices(transport: FakeNetwork([fake]))
            let start = try await outbound.connect.start(user: user, key: "gitlab", browserID: "b1", form: nil, reconnect: nil)
            guard case .redirect(let url, service: _) = start else {
                Issue.record("GitLab did not redirect to the provider")
                return
            }
            #expect(queryOf(url)["client_id"] == "app-client-id")
            let callback = try await fake.authorize(url: url)
            let items = URLComponents(url: callback, resolvingAgainstBaseURL: false)?.queryItems ?? []
            let done = try await outbound.connect.complete(
                query: items.map { (name: $0.name, value: $0.value ?? "") },
                browserID: "b1",
                signedInUser: user
            )
            #expect(done.credential.issuedBy == "app:\(console.id)")
            #expect(await fake.exchangeCount == 1)

            // Refresh uses the same client: the fake refuses the integration's.
            clock.advance(by: 7200)
            let (refreshed, _) = try await outbound.coordinator.refresh(
                id: done.credential.id,
                tenantID: fixture.tenantID,
                trigger: .onDemand,
                leased: false
            )
            #expect(refreshed.status == .active)
            #expect(await fake.refreshCount == 1)
            let integration = try await fixture.runtime.integrations.integrations.find(key: "gitlab", tenantID: fixture.tenantID)
            #expect(integration?.status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingAnEndUserRevokesTheirTokensWithTheAppsClient(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, fake, _ in
            let (appID, key) = try await AppsAPITests.createApp(client, fixture)
            #expect(try await Self.setConfig(client, fixture, appID: appID).status == .created)
            let credentialID = try await EndUsersAPITests.storeAppCredential(
                fixture,
                fake,
                appID: appID,
                externalUserID: "sarah",
                issuedBy: "app:\(appID)"
            )
            let revokedBefore = await fake.revokedTokens.count

            let deleted = try await client.execute(uri: "/api/v1/end-users/sarah", method: .delete, headers: AppsAPITests.appHeaders(key))
            #expect(deleted.status == .noContent)
            #expect(await fake.revokedTokens.count > revokedBefore)
            await #expect(throws: LatchkeyError.self) {
                _ = try await fixture.runtime.vault.get(id: credentialID, tenantID: fixture.tenantID, actor: .cli)
            }
            let audit = try await AppsAPITests.auditActions(client, fixture, "credential.delete")
            #expect(audit.contains { ($0["details"] as? [String: String])?["provider_revocation"] == "revoked" })
            #expect(try await AppsAPITests.auditActions(client, fixture, "end_user.delete").count == 1)

            // Removing the app's client sends its users back to the integration's.
            let removed = try await client.execute(uri: "/api/v1/apps/\(appID)/integrations/gitlab/config", method: .delete, headers: fixture.headers)
            #expect(removed.status == .noContent)
            let again = try await client.execute(uri: "/api/v1/apps/\(appID)/integrations/gitlab/config", method: .get, headers: fixture.headers)
            #expect(again.status == .notFound)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badConfigBodiesAndUnknownIntegrationsAreRefused(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, _, _ in
            let (appID, _) = try await AppsAPITests.createApp(client, fixture)
            let uri = "/api/v1/apps/\(appID)/integrations/gitlab/config"
            let cases: [([String: Any], String)] = [
                ([:], "clientId"),
                (["clientId": ""], "clientId"),
                (["clientId": "a\nb"], "clientId"),
                (["clientId": "x", "clientSecret": ""], "clientSecret"),
                (["clientId": "x", "scopes": ["two words"]], "scopes"),
                (["clientId": "x", "secret": "y"], "secret"),
                (["clientId": NSNull()], "clientId"),
            ]
            for (object, field) in cases {
                let response = try await client.execute(uri: uri, method: .put, headers: fixture.headers, body: try body(object))
                #expect(response.status == .badRequest && response.errorFields == [field], "\(object): \(response.text)")
            }
            let unknown = try await client.execute(
                uri: "/api/v1/apps/\(appID)/integrations/slack/config",
                method: .put,
                headers: fixture.headers,
                body: try body(["clientId": "x"])
            )
            #expect(unknown.status == .notFound)
            let badKey = try await client.execute(uri: "/api/v1/apps/\(appID)/integrations/a%20b/config", method: .get, headers: fixture.headers)
            #expect(badKey.status == .badRequest)
            #expect(try await client.execute(uri: uri, method: .get, headers: fixture.headers).status == .notFound)
        }
    }
}
