import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// An app's key gets its own end users' tokens through the token route, and nothing of another app or the console.
@Suite("Token route by app key")
struct AppTokenTests {
    @Test(arguments: TestDatabases.kinds)
    func anAppKeyGetsItsOwnEndUsersTokensOnly(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let runtime = fixture.runtime
            // The console has a credential for "alice" (an import), which no app may reach.
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "type": "oauth2", "accessToken": "console-token", "externalUserId": "alice"])
            )
            #expect(imported.status == .created)
            let (mineID, mineKey) = try await AppsAPITests.createApp(client, fixture, ["name": "Mine"])
            let (theirsID, theirsKey) = try await AppsAPITests.createApp(client, fixture, ["name": "Theirs"])
            for (appID, prefix) in [(mineID, "mine-"), (theirsID, "theirs-")] {
                let app = try await AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger).app(
                    id: appID,
                    tenantID: fixture.tenantID
                )
                let plan = CredentialVault.SeedPlan(app: app, integrationKey: "github", count: 3, externalIDPrefix: prefix) { n in
                    CredentialSecret(accessToken: "\(prefix)token-\(n)", tokenType: "bearer")
                }
                try await runtime.vault.seedEndUsers(plan, actor: .cli)
            }
            func token(_ key: String, _ user: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v1/credentials/token",
                    method: .post,
                    headers: AppsAPITests.appHeaders(key),
                    body: try body(["integration": "github", "externalUserId": user])
                )
            }
            let mine = try await token(mineKey, "mine-1")
            #expect(mine.status == .ok)
            #expect(try mine.json["accessToken"] as? String == "mine-token-1")
            #expect(try mine.json["tokenType"] as? String == "Bearer")
            // Another app's end user, or the console's, is not connected as far as this app is concerned.
            for (key, user) in [(mineKey, "theirs-1"), (mineKey, "alice"), (theirsKey, "mine-1")] {
                let refused = try await token(key, user)
                #expect(refused.status == .conflict, "\(user)")
                #expect(refused.errorCode == "not_connected")
                #expect(!refused.text.contains("token-"))
            }
            #expect(try await token(theirsKey, "theirs-2").json["accessToken"] as? String == "theirs-token-2")
            // The admin key acts for the console app only.
            let console = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "externalUserId": "mine-1"])
            )
            #expect(console.errorCode == "not_connected")
        }
    }
}
