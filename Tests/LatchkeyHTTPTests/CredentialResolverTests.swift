import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The one credential resolver (DESIGN §2, "Credential resolution"): each of its six levels, each fallback, and
/// that it never answers one app or tenant with another's credential.
@Suite("Credential resolver")
struct CredentialResolverTests {
    typealias Query = CredentialResolver.Query

    @Test(arguments: TestDatabases.kinds)
    func level1ACredentialIdIsThatCredentialWhenItIsTheCallersAppsAndUsers(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let alice = try await world.store(world.derek, user: "alice", token: "derek-alice")
            let shared = try await world.store(world.derek, user: nil, token: "derek-shared")
            let bobs = try await world.store(world.other, user: "bob", token: "other-bob")
            // Explicit wins over the user's own default.
            #expect(try await world.accessToken(world.derek, Query(integrationKey: "gitlab", credentialID: alice.id)) == "derek-alice")
            #expect(
                try await world.accessToken(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice", credentialID: shared.id))
                    == "derek-shared"
            )
            #expect(
                try await world.accessToken(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice", credentialID: alice.id))
                    == "derek-alice"
            )
            // Another user's credential, another app's, another integration: refused.
            let otherUser = try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "carol", credentialID: alice.id))
            #expect(otherUser.code == .notFound)
            let otherApp = try await world.error(world.derek, Query(integrationKey: "gitlab", credentialID: bobs.id))
            #expect(otherApp.code == .notFound)
            #expect(try await world.accessToken(world.other, Query(integrationKey: "gitlab", credentialID: bobs.id)) == "other-bob")
            let otherIntegration = try await world.error(world.derek, Query(integrationKey: "github", credentialID: alice.id))
            #expect(otherIntegration.code == .invalidRequest && otherIntegration.fields.map(\.path) == ["credentialId"])
            // The console app (admin key) does not reach an external app's credential either.
            #expect(try await world.error(nil, Query(integrationKey: "gitlab", credentialID: alice.id)).code == .notFound)
            let denied = try await world.auditEvents("credential.access_denied")
            #expect(denied.filter { $0["target"] as? String == bobs.id }.count == 1)
            let details = try #require(denied.first { $0["target"] as? String == bobs.id }?["details"] as? [String: String])
            #expect(details["app"] == world.derek.id)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func level2And3AConnectionIdIsTheUsersCredentialUnderItElseItsSharedOne(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let connection = try await world.connection(world.derek)
            try await world.store(world.derek, user: "alice", token: "derek-alice")
            #expect(
                try await world.error(world.derek, Query(integrationKey: "gitlab", connectionID: connection.id)).code == .notConnected
            )
            try await world.store(world.derek, user: nil, token: "derek-shared")
            // 2: the user's own, else the shared one.
            #expect(
                try await world.accessToken(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice", connectionID: connection.id))
                    == "derek-alice"
            )
            #expect(
                try await world.accessToken(world.derek, Query(integrationKey: "gitlab", externalUserID: "carol", connectionID: connection.id))
                    == "derek-shared"
            )
            // 3: the shared one, never a user's.
            #expect(try await world.accessToken(world.derek, Query(integrationKey: "gitlab", connectionID: connection.id)) == "derek-shared")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aConnectionOfAnotherAppTenantOrIntegrationIsRefusedAndAudited(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            try await world.store(world.derek, user: "alice", token: "derek-alice")
            try await world.store(world.other, user: "alice", token: "other-alice")
            try await world.store(world.derek, user: nil, token: "derek-github", "github")
            let others = try await world.connection(world.other)
            let github = try await world.connection(world.derek, "github")
            let otherApp = try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice", connectionID: others.id))
            #expect(otherApp.code == .notFound)
            let otherIntegration = try await world.error(world.derek, Query(integrationKey: "gitlab", connectionID: github.id))
            #expect(otherIntegration.code == .invalidRequest && otherIntegration.fields.map(\.path) == ["connectionId"])
            // The console app's caller (admin key) cannot name an external app's Connection.
            #expect(try await world.error(nil, Query(integrationKey: "gitlab", connectionID: others.id)).code == .notFound)
            // Another tenant's Connection and credential are not found.
            let tenant = try await world.fixture.runtime.tenants.createTenant(slug: "elsewhere", name: "Elsewhere", actor: .cli)
            let foreign = try await world.store(nil, user: "alice", "gitlab", secret: .init(accessToken: "foreign"), tenantID: tenant.id)
            #expect(try await world.error(nil, Query(integrationKey: "gitlab", connectionID: foreign.connectionID)).code == .notFound)
            #expect(try await world.error(nil, Query(integrationKey: "gitlab", credentialID: foreign.id)).code == .notFound)
            let reasons = try await world.auditEvents("credential.access_denied").compactMap { ($0["details"] as? [String: String])?["reason"] }
            #expect(reasons.filter { $0 == "connection_not_found_for_caller" }.count == 3)
            #expect(reasons.contains("connection_of_another_integration"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func level4AnAppsEndUserGetsTheirDefaultThenTheirOldestThenTheSharedCredential(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let alice = Query(integrationKey: "gitlab", externalUserID: "alice")
            #expect(try await world.error(world.derek, alice).code == .notConnected)
            try await world.store(world.derek, user: nil, token: "derek-shared")
            #expect(try await world.accessToken(world.derek, alice) == "derek-shared")
            let first = try await world.store(world.derek, user: "alice", token: "alice-first")
            world.clock.advance(by: 1)
            let second = try await world.store(world.derek, user: "alice", token: "alice-second")
            world.clock.advance(by: 1)
            try await world.store(world.derek, user: "alice", token: "alice-third")
            #expect(try await world.accessToken(world.derek, alice) == "alice-first")
            // The default wins over the oldest.
            _ = try await world.vault.update(id: second.id, tenantID: world.tenantID, changes: .init(isDefault: true), actor: .cli)
            #expect(try await world.accessToken(world.derek, alice) == "alice-second")
            // No default left: the oldest.
            try await world.vault.delete(id: second.id, tenantID: world.tenantID, actor: .cli)
            #expect(try await world.accessToken(world.derek, alice) == "alice-first")
            try await world.vault.delete(id: first.id, tenantID: world.tenantID, actor: .cli)
            #expect(try await world.accessToken(world.derek, alice) == "alice-third")
            // Another app's end user of the same id is someone else.
            #expect(try await world.error(world.other, alice).code == .notConnected)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func level5AnAppWithoutAnEndUserGetsItsSharedCredentialOnly(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let app = Query(integrationKey: "gitlab")
            try await world.store(world.derek, user: "alice", token: "derek-alice")
            try await world.store(nil, user: nil, token: "console-shared")
            #expect(try await world.error(world.derek, app).code == .notConnected)
            try await world.store(world.derek, user: nil, token: "derek-shared")
            #expect(try await world.accessToken(world.derek, app) == "derek-shared")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func level6TheConsoleAppFindsTheNamedEndUserByIdOrEmailElseTheSharedCredential(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            try await world.store(world.derek, user: "alice", token: "derek-alice")
            let person = try await TestUsers.create(world.fixture, email: "Alice@Example.com")
            #expect(try await world.error(nil, Query(integrationKey: "gitlab", externalUserID: person.id)).code == .notConnected)
            try await world.store(nil, user: nil, token: "console-shared")
            #expect(try await world.accessToken(nil, Query(integrationKey: "gitlab", externalUserID: person.id)) == "console-shared")
            try await world.store(nil, user: person.id, token: "console-alice")
            for name in [person.id, "alice@example.com", "Alice@Example.com"] {
                #expect(try await world.accessToken(nil, Query(integrationKey: "gitlab", externalUserID: name)) == "console-alice")
            }
            // An import naming the email itself is that end user, and wins over the email's console user.
            try await world.store(nil, user: "alice@example.com", token: "imported-for-email")
            #expect(try await world.accessToken(nil, Query(integrationKey: "gitlab", externalUserID: "alice@example.com")) == "imported-for-email")
            #expect(try await world.accessToken(nil, Query(integrationKey: "gitlab", externalUserID: "Alice@Example.com")) == "console-alice")
            // The email form is the console's: an app's end users are known by the app's own ids only.
            #expect(try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice@example.com")).code == .notConnected)
            #expect(try await world.accessToken(nil, Query(integrationKey: "gitlab", externalUserID: "bob@example.com")) == "console-shared")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppIsNeverAnsweredWithAnotherTenantsCredential(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let tenant = try await world.fixture.runtime.tenants.createTenant(slug: "elsewhere", name: "Elsewhere", actor: .cli)
            try await world.store(nil, user: "alice", "gitlab", secret: .init(accessToken: "foreign-alice"), tenantID: tenant.id)
            try await world.store(nil, user: nil, "gitlab", secret: .init(accessToken: "foreign-shared"), tenantID: tenant.id)
            #expect(try await world.error(nil, Query(integrationKey: "gitlab", externalUserID: "alice")).code == .notConnected)
            #expect(try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice")).code == .notConnected)
            // An app id of this tenant used with another tenant id resolves nothing.
            try await world.store(world.derek, user: "alice", token: "derek-alice")
            #expect(
                try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice"), tenantID: tenant.id).code
                    == .notConnected
            )
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func notConnectedSaysWhatToDoNextWithAnAbsoluteURL(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind, publicURL: "https://latchkey.example/") { world in
            let forApp = try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "alice"))
            #expect(forApp.code == .notConnected)
            #expect(forApp.action == .init(type: "connect", url: "https://latchkey.example/api/v1/connect/sessions"))
            #expect(forApp.message.contains("connect session") && forApp.message.contains("\"alice\""))
            let forConsole = try await world.error(nil, Query(integrationKey: "gitlab"))
            #expect(forConsole.action == .init(type: "connect", url: "https://latchkey.example/connections"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func apiKeysAndPasswordsAreHandedOutAndAuditedAsTokenUseForTheAppAndUser(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            try await world.store(world.derek, user: "alice", "stripe", secret: .init(apiKey: "sk_alice_key"), type: .apiKey)
            try await world.store(world.derek, user: nil, "jira", secret: .init(username: "bot", password: "bot-password"), type: .basic)
            let key = try await world.token(world.derek, Query(integrationKey: "stripe", externalUserID: "alice"))
            #expect(key.secret == .apiKey("sk_alice_key"))
            let basic = try await world.token(world.derek, Query(integrationKey: "jira", externalUserID: "alice"))
            #expect(basic.secret == .basic(username: "bot", password: "bot-password"))
            let events = try await world.auditEvents("credential.token")
            #expect(events.count == 2)
            let keyEvent = try #require(events.first { $0["target"] as? String == key.credential.id }?["details"] as? [String: String])
            #expect(keyEvent["app"] == world.derek.id && keyEvent["end_user"] == "alice" && keyEvent["owner"] == "alice")
            #expect(keyEvent["type"] == "api_key" && keyEvent["api_key_fp"] != nil)
            let basicEvent = try #require(events.first { $0["target"] as? String == basic.credential.id }?["details"] as? [String: String])
            #expect(basicEvent["owner"] == "shared" && basicEvent["password_fp"] != nil)
            #expect(try await world.auditEvents("credential.reveal").isEmpty)
        }
    }
}
