import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// Credentials Latchkey cannot read: an altered ciphertext, a damaged row. Each is flagged, audited and announced,
/// the same on every path, and never takes the other credentials of the tenant down with it.
@Suite("Unreadable credentials")
struct UnreadableCredentialTests {
    static func github(_ user: String) -> [String: Any] {
        [
            "integration": "github", "externalUserId": user, "type": "oauth2", "accessToken": "gho_\(user)_token", "refreshToken": "ghr_\(user)",
            "expiresAt": "2030-01-01T00:00:00Z", "connectionConfig": ["instance_url": "https://\(user).example"],
        ]
    }

    static func importCredential(_ client: any TestClientProtocol, _ fixture: TestFixture, user: String) async throws -> String {
        let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(github(user)))
        #expect(created.status == .created)
        return try #require(try created.json["id"] as? String)
    }

    static func auditEvents(_ client: any TestClientProtocol, _ fixture: TestFixture, action: String) async throws -> [[String: Any]] {
        let response = try await client.execute(uri: "/api/v1/audit?action=\(action)&limit=100", method: .get, headers: fixture.headers)
        return try #require(try response.json["items"] as? [[String: Any]])
    }

    static func token(_ client: any TestClientProtocol, _ fixture: TestFixture, user: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/credentials/token",
            method: .post,
            headers: fixture.headers,
            body: body(["integration": "github", "externalUserId": user])
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func theTokenRouteFlagsAuditsAndAnnouncesACredentialItCannotDecrypt(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            _ = try await WebhooksAPITests.setEndpoint(client, fixture)
            let alice = try await Self.importCredential(client, fixture, user: "alice")
            for user in ["bob", "carol"] { _ = try await Self.importCredential(client, fixture, user: user) }
            try await fixture.runtime.database.corruptPayload(ofCredential: alice)

            let failed = try await Self.token(client, fixture, user: "alice")
            #expect(failed.status == .internalServerError && failed.errorCode == "decryption_failed")
            #expect(!failed.text.contains("gho_alice_token"))

            let events = try await Self.auditEvents(client, fixture, action: "credential.decryption_failed")
            #expect(events.count == 1)
            let details = try #require(events.first?["details"] as? [String: String])
            #expect(events.first?["target"] as? String == alice && details["field"] == "payload" && details["key_version"] == "1")
            let tokenEvents = try await Self.auditEvents(client, fixture, action: "credential.token")
            #expect(tokenEvents.contains { $0["target"] as? String == alice && $0["result"] as? String == "failure" })

            let shown = try await client.execute(uri: "/api/v1/credentials/\(alice)", method: .get, headers: fixture.headers)
            #expect(try shown.json["status"] as? String == "needs_reauth" && shown.json["statusReason"] as? String == "decryption_failed")

            let connections = try #require(
                try await client.execute(uri: "/api/v1/connections", method: .get, headers: fixture.headers).json["items"] as? [[String: Any]]
            )
            let counts = try #require(connections.first?["counts"] as? [String: Any])
            #expect(connections.first?["health"] as? String == "degraded" && counts["needsReauth"] as? Int == 1)

            let deliveries = try await WebhooksAPITests.deliveries(client, fixture)
            let types = deliveries.compactMap { ($0["event"] as? [String: Any])?["type"] as? String }
            #expect(types.contains("credential.needs_reauth") && types.contains("connection.health_changed"))
            let needsReauth = try #require(deliveries.first { ($0["event"] as? [String: Any])?["type"] as? String == "credential.needs_reauth" })
            let data = try #require((needsReauth["event"] as? [String: Any])?["data"] as? [String: Any])
            #expect(data["credentialId"] as? String == alice && data["reason"] as? String == "decryption_failed")

            // Later calls are told to reconnect; the others still work.
            let again = try await Self.token(client, fixture, user: "alice")
            #expect(again.status == .conflict && again.errorCode == "needs_reauth")
            #expect(again.text.contains("Latchkey cannot read the stored github credential. Please reconnect."))
            #expect(try await Self.token(client, fixture, user: "bob").status == .ok)
            #expect(try await Self.auditEvents(client, fixture, action: "credential.decryption_failed").count == 1)

            // A new secret replaces the unreadable one and makes the credential usable again.
            let replaced = try await client.execute(
                uri: "/api/v1/credentials/\(alice)",
                method: .patch,
                headers: fixture.headers,
                body: body(["accessToken": "gho_alice_new"])
            )
            #expect(replaced.status == .ok)
            #expect(try replaced.json["status"] as? String == "active" && replaced.json["statusReason"] == nil)
            let healed = try await Self.token(client, fixture, user: "alice")
            #expect(healed.status == .ok)
            #expect(try healed.json["accessToken"] as? String == "gho_alice_new")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func revealAndDisconnectFlagTheSameWay(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await Self.importCredential(client, fixture, user: "alice")
            try await fixture.runtime.database.corruptPayload(ofCredential: alice)
            let revealed = try await client.execute(uri: "/api/v1/credentials/\(alice)/reveal", method: .post, headers: fixture.headers)
            #expect(revealed.status == .internalServerError && revealed.errorCode == "decryption_failed")
            let shown = try await client.execute(uri: "/api/v1/credentials/\(alice)", method: .get, headers: fixture.headers)
            #expect(try shown.json["statusReason"] as? String == "decryption_failed")
            #expect(try await Self.auditEvents(client, fixture, action: "credential.decryption_failed").count == 1)
            // An unreadable credential can still be deleted.
            let deleted = try await client.execute(uri: "/api/v1/credentials/\(alice)", method: .delete, headers: fixture.headers)
            #expect(deleted.status == .noContent)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func oneDamagedRowIsListedAsUnreadableAndAuditedOnce(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await Self.importCredential(client, fixture, user: "alice")
            let bob = try await Self.importCredential(client, fixture, user: "bob")
            try await fixture.runtime.database.write { db in
                try await db.raw("UPDATE credentials SET connection_config = 'not json {' WHERE id = \(bind: bob)").run()
            }
            for _ in 0..<2 {
                let list = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers)
                #expect(list.status == .ok)
                let items = try #require(try list.json["items"] as? [[String: Any]])
                #expect(items.count == 2)
                #expect(items.first { $0["id"] as? String == alice }?["status"] as? String == "active")
                let damaged = try #require(items.first { $0["id"] as? String == bob })
                let problem = try #require(damaged["error"] as? [String: Any])
                #expect(damaged["status"] as? String == "unreadable" && problem["column"] as? String == "connection_config")
                #expect((problem["message"] as? String)?.contains("cannot be read") == true && !list.text.contains("not json"))
            }
            let audited = try await Self.auditEvents(client, fixture, action: "credential.unreadable")
            #expect(audited.count == 1 && audited.first?["target"] as? String == bob)
            #expect((audited.first?["details"] as? [String: String])?["column"] == "connection_config")
            #expect(fixture.logs.text.contains("credential row cannot be read"))

            let shown = try await client.execute(uri: "/api/v1/credentials/\(bob)", method: .get, headers: fixture.headers)
            #expect(shown.status == .internalServerError && shown.errorCode == "decryption_failed")
            #expect(shown.text.contains("connection_config") && !shown.text.contains("not json"))
            #expect(try await Self.token(client, fixture, user: "bob").errorCode == "decryption_failed")

            // Flagged without writing anything back over the damaged value.
            let row = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT status, status_reason, connection_config FROM credentials WHERE id = \(bind: bob)").first()
            }
            #expect(try row?.decode(column: "connection_config", as: String.self) == "not json {")
            #expect(try row?.decode(column: "status", as: String.self) == "needs_reauth")
            #expect(try row?.decode(column: "status_reason", as: String.self) == "stored_data_unreadable")
            #expect(try await Self.auditEvents(client, fixture, action: "credential.unreadable").count == 1)

            // It can be deleted, and the list is whole again.
            let deleted = try await client.execute(uri: "/api/v1/credentials/\(bob)", method: .delete, headers: fixture.headers)
            #expect(deleted.status == .noContent)
            let after = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers)
            #expect((try after.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [alice])
            let deletions = try await Self.auditEvents(client, fixture, action: "credential.delete")
            #expect(deletions.first?["target"] as? String == bob)
        }
    }

    @Test func aPayloadOfTheWrongColumnTypeIsListedAsUnreadable() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let alice = try await Self.importCredential(client, fixture, user: "alice")
            let bob = try await Self.importCredential(client, fixture, user: "bob")
            try await fixture.runtime.database.write { db in
                try await db.raw("UPDATE credentials SET payload = 12345 WHERE id = \(bind: bob)").run()
            }
            // Read directly first: the payload does not open, like an altered ciphertext.
            let direct = try await Self.token(client, fixture, user: "bob")
            #expect(direct.status == .internalServerError && direct.errorCode == "decryption_failed")
            #expect(try await Self.auditEvents(client, fixture, action: "credential.decryption_failed").count == 1)
            let list = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers)
            #expect(list.status == .ok)
            let items = try #require(try list.json["items"] as? [[String: Any]])
            #expect(items.first { $0["id"] as? String == alice }?["status"] as? String == "active")
            let damaged = try #require(items.first { $0["id"] as? String == bob })
            #expect(damaged["status"] as? String == "unreadable" && (damaged["error"] as? [String: Any])?["column"] as? String == "payload")
            // The listing flagged it: the token route says to reconnect, and the flag was audited once.
            let failed = try await Self.token(client, fixture, user: "bob")
            #expect(failed.status == .conflict && failed.text.contains("Latchkey cannot read the stored github credential"))
            let audited = try await Self.auditEvents(client, fixture, action: "credential.unreadable")
            #expect(audited.count == 1 && (audited.first?["details"] as? [String: String])?["column"] == "payload")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func probesOfOtherTenantsAndOfNothingLeaveTheSameAuditEvent(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let other = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme", actor: .cli)
            let (_, otherKey) = try await fixture.runtime.tenants.createAdminKey(tenantID: other.id, name: "probe", actor: .cli)
            let headers: HTTPFields = [.authorization: "Bearer \(otherKey)", .contentType: "application/json"]
            let elsewhere = try await Self.importCredential(client, fixture, user: "alice")
            let connections = try await client.execute(uri: "/api/v1/connections", method: .get, headers: fixture.headers)
            let connection = try #require((try connections.json["items"] as? [[String: Any]])?.first?["id"] as? String)
            let nowhere = UUID().uuidString.lowercased()

            for id in [elsewhere, nowhere] {
                #expect(try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: headers).status == .notFound)
            }
            for id in [connection, nowhere] {
                #expect(try await client.execute(uri: "/api/v1/connections/\(id)", method: .get, headers: headers).status == .notFound)
            }
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: headers,
                body: body(["integration": "github", "type": "api_key", "apiKey": "k", "connectionId": connection])
            )
            #expect(imported.status == .notFound)

            let audit = try await fixture.runtime.audit.repository.page(tenantID: other.id, afterSeq: 0, limit: 50)
            let credentialProbes = audit.filter { $0.action == "credential.access_denied" }
            #expect(credentialProbes.map(\.target) == [elsewhere, nowhere])
            #expect(Set(credentialProbes.map(\.details)) == [["reason": "not_found_in_tenant"]])
            let connectionProbes = audit.filter { $0.action == "connection.access_denied" }
            #expect(connectionProbes.map(\.target) == [connection, nowhere, connection])
            #expect(Set(connectionProbes.map(\.details)) == [["reason": "not_found_in_tenant"]])
        }
    }
}
