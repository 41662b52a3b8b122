import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// What the resolver answers beyond the credential itself: the next step of a credential that must be connected
/// again, as an absolute URL the app can hand to its user (DESIGN §6); a credential id and a Connection id that do not
/// agree; and the app an admin key's hand-out is audited for.
@Suite("Credential resolver: next steps and cross-checks")
struct ResolverNextStepTests {
    typealias Query = CredentialResolver.Query

    @Test(arguments: TestDatabases.kinds)
    func aCredentialToReconnectSaysHowWithAnAbsoluteURL(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind, publicURL: "https://latchkey.example/") { world in
            let alice = try await world.store(world.derek, user: "sarah@derek.example/1", token: "derek-alice")
            let shared = try await world.store(world.derek, user: nil, token: "derek-shared", "github")
            let bob = try await world.store(nil, user: "bob", token: "console-bob")
            for credential in [alice, shared, bob] {
                _ = try await world.vault.update(id: credential.id, tenantID: world.tenantID, changes: .init(status: .needsReauth), actor: .cli)
            }
            // An app's end user: a reconnect session of their connection, on the server's public URL.
            let forApp = try await world.error(world.derek, Query(integrationKey: "gitlab", externalUserID: "sarah@derek.example/1"))
            #expect(forApp.code == .needsReauth)
            let reconnect = "https://latchkey.example/api/v1/connect/users/sarah@derek.example%2F1/connections/\(alice.connectionID)/reconnect"
            #expect(forApp.action == .init(type: "reconnect", url: reconnect))
            #expect(forApp.message.contains("Please reconnect") && forApp.message.contains("POST \(reconnect)"))
            // An app's shared credential and the console's: the Connection Center, absolute.
            let forShared = try await world.error(world.derek, Query(integrationKey: "github"))
            #expect(forShared.action == .init(type: "reconnect", url: "https://latchkey.example/connections"))
            #expect(forShared.message.contains("administrator"))
            let forConsole = try await world.error(nil, Query(integrationKey: "gitlab", externalUserID: "bob"))
            #expect(forConsole.code == .needsReauth)
            #expect(forConsole.action == .init(type: "reconnect", url: "https://latchkey.example/connections"))
            #expect(forConsole.message.contains("https://latchkey.example/connections"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anUnreadableCredentialSaysHowToReconnectWithAnAbsoluteURL(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind, publicURL: "https://latchkey.example") { world in
            let alice = try await world.store(world.derek, user: "alice", token: "derek-alice")
            try await world.fixture.runtime.database.corruptPayload(ofCredential: alice.id)
            let query = Query(integrationKey: "gitlab", externalUserID: "alice")
            #expect(try await world.error(world.derek, query).code == .decryptionFailed)
            // Flagged by the first read: from now on the app is told to have its user reconnect.
            let again = try await world.error(world.derek, query)
            #expect(again.code == .needsReauth)
            #expect(
                again.action?.url == "https://latchkey.example/api/v1/connect/users/alice/connections/\(alice.connectionID)/reconnect"
            )
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aCredentialIdAndAConnectionIdMustAgree(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let alice = try await world.store(world.derek, user: "alice", token: "derek-alice")
            let otherConnection = try await world.connection(world.derek, "github")
            let foreign = try await world.connection(world.other)
            // The credential's own Connection: fine.
            #expect(
                try await world.accessToken(world.derek, Query(integrationKey: "gitlab", credentialID: alice.id, connectionID: alice.connectionID))
                    == "derek-alice"
            )
            // Another Connection of the app, or another app's: refused, naming the field, nothing handed out.
            for connection in [otherConnection.id, foreign.id] {
                let refused = try await world.error(world.derek, Query(integrationKey: "gitlab", credentialID: alice.id, connectionID: connection))
                #expect(refused.code == .invalidRequest && refused.fields.map(\.path) == ["connectionId"])
                #expect(refused.httpStatus == 400)
            }
            let reasons = try await world.auditEvents("credential.access_denied").compactMap { ($0["details"] as? [String: String])?["reason"] }
            #expect(reasons.filter { $0 == "credential_of_another_connection" }.count == 2)
            #expect(try await world.auditEvents("credential.token").count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAdminKeysHandOutIsAuditedForTheConsoleAppById(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            try await world.store(nil, user: "bob", token: "console-bob")
            #expect(try await world.accessToken(nil, Query(integrationKey: "gitlab", externalUserID: "bob")) == "console-bob")
            let console = try #require(try await world.fixture.runtime.tenants.directory.consoleApp(tenantID: world.tenantID))
            let details = try #require(try await world.auditEvents("credential.token").first?["details"] as? [String: String])
            #expect(details["app"] == console.id)
        }
    }
}
