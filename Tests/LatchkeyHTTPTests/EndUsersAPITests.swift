import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

@Suite("End users API")
struct EndUsersAPITests {
    /// Real tokens from `fake` (with its own client), stored for `externalUserID` (nil: shared) under the app's Connection.
    static func storeAppCredential(
        _ fixture: TestFixture,
        _ fake: FakeProvider,
        appID: String,
        externalUserID: String?,
        issuedBy: String,
        status: CredentialStatus = .active
    ) async throws -> String {
        let provider = fake.provider
        let verifier = PKCE.makeVerifier()
        let url = AuthorizationRequest(
            provider: provider,
            endpoints: fake.endpoints,
            clientID: fake.clientID,
            redirectURI: "https://latchkey.example/connect/callback",
            scopes: ["read_user"],
            state: "s",
            codeChallenge: PKCE.challenge(for: verifier),
            nonce: nil
        ).url
        let code = try #require(queryOf(try await fake.authorize(url: url, accountID: externalUserID ?? "shared"))["code"])
        let tokens = try await OAuthClient(transport: fake, clock: SystemClock()).exchangeCode(
            provider: provider,
            endpoints: fake.endpoints,
            client: .init(clientID: fake.clientID, clientSecret: fake.clientSecret, method: provider.oauth!.clientAuth),
            code: code,
            redirectURI: "https://latchkey.example/connect/callback",
            codeVerifier: verifier
        )
        let runtime = fixture.runtime
        let app = try #require(try await AppRepository(database: runtime.database).find(id: appID, tenantID: fixture.tenantID))
        let connection = try await runtime.database.write { db in
            let integration = try await runtime.tenants.directory.findOrCreateIntegration(
                tenantID: fixture.tenantID,
                key: "gitlab",
                now: Date(),
                on: db
            )
            return try await runtime.tenants.directory.findOrCreateConnection(app: app, integration: integration.integration, now: Date(), on: db)
        }
        var new = CredentialVault.NewCredential(
            integration: "gitlab",
            externalUserID: externalUserID,
            connectionID: connection.id,
            type: .oauth2,
            secret: CredentialSecret(accessToken: tokens.accessToken, refreshToken: tokens.refreshToken),
            expiresAt: Date().addingTimeInterval(3600)
        )
        new.issuedBy = issuedBy
        let credential = try await runtime.vault.create(new, tenantID: fixture.tenantID, actor: .cli)
        // Each one a second later, so that lists have one order.
        (runtime.clock as? TestClock)?.advance(by: 1)
        if status != .active {
            _ = try await runtime.vault.update(id: credential.id, tenantID: fixture.tenantID, changes: .init(status: status), actor: .cli)
        }
        return credential.id
    }

    static func list(_ client: any TestClientProtocol, _ uri: String, _ headers: HTTPFields) async throws -> [[String: Any]] {
        let response = try await client.execute(uri: uri, method: .get, headers: headers)
        #expect(response.status == .ok, "\(response.text)")
        return try #require(try response.json["items"] as? [[String: Any]])
    }

    static func withGitLab(
        _ kind: TestDatabases.Kind,
        _ body: @Sendable (any TestClientProtocol, TestFixture, FakeProvider) async throws -> Void
    ) async throws {
        let fake = try FakeProvider(provider: try #require(AppOAuthClientTests.catalog.provider(id: "gitlab")))
        try await TestApp.with(kind, transport: FakeNetwork([fake])) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "gitlab", provider: "gitlab", clientID: "fake-client-id", clientSecret: "fake-client-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            try await body(client, fixture, fake)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func eachCallerSeesItsOwnAppsEndUsersWithCountsPageByPage(kind: TestDatabases.Kind) async throws {
        try await Self.withGitLab(kind) { client, fixture, fake in
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let (appA, keyA) = try await AppsAPITests.createApp(client, fixture, ["name": "A"])
            let (_, keyB) = try await AppsAPITests.createApp(client, fixture, ["name": "B"])
            _ = try await Self.storeAppCredential(fixture, fake, appID: appA, externalUserID: "sarah", issuedBy: "integration")
            _ = try await Self.storeAppCredential(fixture, fake, appID: appA, externalUserID: "sarah", issuedBy: "integration", status: .needsReauth)
            _ = try await Self.storeAppCredential(fixture, fake, appID: appA, externalUserID: "42", issuedBy: "integration")
            _ = try await Self.storeAppCredential(fixture, fake, appID: appA, externalUserID: nil, issuedBy: "integration")
            _ = try await Self.storeAppCredential(fixture, fake, appID: console.id, externalUserID: "alice@example.com", issuedBy: "import")

            // App A's key: its own end users, with counts.
            let mine = try await Self.list(client, "/api/v1/end-users", AppsAPITests.appHeaders(keyA))
            #expect(mine.map { $0["externalUserId"] as? String } == ["sarah", "42"])
            let sarah = try #require(mine.first)
            #expect(sarah["connections"] as? Int == 1)
            let counts = try #require(sarah["credentials"] as? [String: Any])
            #expect(counts["total"] as? Int == 2 && counts["active"] as? Int == 1 && counts["needsReauth"] as? Int == 1)
            // Page by page.
            let first = try await client.execute(uri: "/api/v1/end-users?limit=1", method: .get, headers: AppsAPITests.appHeaders(keyA))
            let cursor = try #require(try first.json["nextCursor"] as? String)
            let second = try await Self.list(client, "/api/v1/end-users?limit=1&cursor=\(cursor)", AppsAPITests.appHeaders(keyA))
            #expect(second.map { $0["externalUserId"] as? String } == ["42"])

            // App B sees none, and may not look at A's (not found, audited).
            #expect(try await Self.list(client, "/api/v1/end-users", AppsAPITests.appHeaders(keyB)).isEmpty)
            let probe = try await client.execute(uri: "/api/v1/end-users?appId=\(appA)", method: .get, headers: AppsAPITests.appHeaders(keyB))
            #expect(probe.status == .notFound)
            #expect(try await AppsAPITests.auditActions(client, fixture, "app.access_denied").count == 1)
            // B cannot delete A's user either.
            let steal = try await client.execute(uri: "/api/v1/end-users/sarah", method: .delete, headers: AppsAPITests.appHeaders(keyB))
            #expect(steal.status == .notFound)
            #expect(try await Self.list(client, "/api/v1/end-users", AppsAPITests.appHeaders(keyA)).count == 2)

            // An admin key: the console app's, or an app's by id.
            let consoleUsers = try await Self.list(client, "/api/v1/end-users", fixture.headers)
            #expect(consoleUsers.map { $0["externalUserId"] as? String } == ["alice@example.com"])
            #expect(try await Self.list(client, "/api/v1/end-users?appId=\(appA)", fixture.headers).count == 2)
            #expect(try await client.execute(uri: "/api/v1/end-users?appId=nope", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/end-users?cursor=%%%", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/end-users", method: .get).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingAnEndUserTakesAnyExternalIdAndRemovesTheirCredentials(kind: TestDatabases.Kind) async throws {
        try await Self.withGitLab(kind) { client, fixture, fake in
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let email = "bob+work/x@example.com"
            let id = try await Self.storeAppCredential(fixture, fake, appID: console.id, externalUserID: email, issuedBy: "import")
            let shared = try await Self.storeAppCredential(fixture, fake, appID: console.id, externalUserID: nil, issuedBy: "import")
            let encoded = try #require(email.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            #expect(try await client.execute(uri: "/api/v1/end-users/nobody", method: .delete, headers: fixture.headers).status == .notFound)
            let tooLong = String(repeating: "x", count: 256)
            let long = try await client.execute(uri: "/api/v1/end-users/\(tooLong)", method: .delete, headers: fixture.headers)
            #expect(long.status == .badRequest && long.errorFields == ["externalUserId"])

            let deleted = try await client.execute(uri: "/api/v1/end-users/\(encoded)", method: .delete, headers: fixture.headers)
            #expect(deleted.status == .noContent)
            await #expect(throws: LatchkeyError.self) { _ = try await fixture.runtime.vault.get(id: id, tenantID: fixture.tenantID, actor: .cli) }
            #expect(try await fixture.runtime.vault.get(id: shared, tenantID: fixture.tenantID, actor: .cli).id == shared)
            #expect(try await Self.list(client, "/api/v1/end-users", fixture.headers).isEmpty)

            // A percent sign in the id is taken as it is meant, not decoded twice.
            _ = try await Self.storeAppCredential(fixture, fake, appID: console.id, externalUserID: "50%41", issuedBy: "import")
            #expect(try await client.execute(uri: "/api/v1/end-users/50%2541", method: .delete, headers: fixture.headers).status == .noContent)
            #expect(try await Self.list(client, "/api/v1/end-users", fixture.headers).isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingAnAppRevokesAndDeletesEverythingUnderIt(kind: TestDatabases.Kind) async throws {
        try await Self.withGitLab(kind) { client, fixture, fake in
            let (appID, _) = try await AppsAPITests.createApp(client, fixture)
            let user = try await Self.storeAppCredential(fixture, fake, appID: appID, externalUserID: "sarah", issuedBy: "integration")
            let shared = try await Self.storeAppCredential(fixture, fake, appID: appID, externalUserID: nil, issuedBy: "integration")
            #expect(try await Self.setConfigForDelete(client, fixture, appID: appID) == .created)

            #expect(try await client.execute(uri: "/api/v1/apps/\(appID)", method: .delete, headers: fixture.headers).status == .noContent)
            for id in [user, shared] {
                await #expect(throws: LatchkeyError.self) { _ = try await fixture.runtime.vault.get(id: id, tenantID: fixture.tenantID, actor: .cli) }
            }
            #expect(await fake.revokedTokens.count >= 2)
            let deletions = try await AppsAPITests.auditActions(client, fixture, "credential.delete")
            #expect(deletions.count == 2)
            let remaining = try await fixture.runtime.database.read { db in
                try await db.raw(
                    "SELECT (SELECT COUNT(*) FROM end_users WHERE app_id = \(bind: appID)) + (SELECT COUNT(*) FROM connections WHERE app_id = \(bind: appID)) + (SELECT COUNT(*) FROM app_integration_configs WHERE app_id = \(bind: appID)) AS n"
                ).first()?.decode(column: "n", as: Int.self)
            }
            #expect(remaining == 0)
        }
    }

    static func setConfigForDelete(_ client: any TestClientProtocol, _ fixture: TestFixture, appID: String) async throws -> HTTPResponse.Status {
        try await client.execute(
            uri: "/api/v1/apps/\(appID)/integrations/gitlab/config",
            method: .put,
            headers: fixture.headers,
            body: try body(["clientId": "fake-client-id", "clientSecret": "fake-client-secret"])
        ).status
    }
}
