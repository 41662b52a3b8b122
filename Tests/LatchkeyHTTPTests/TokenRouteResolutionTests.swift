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

/// `POST /api/v1/credentials/token` with an admin key (the console app's caller): every credential type from one
/// route, Connections by id, console users by email, and a next step anyone can follow.
@Suite("Token route resolution")
struct TokenRouteResolutionTests {
    static func token(_ client: any TestClientProtocol, _ fixture: TestFixture, _ object: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/credentials/token", method: .post, headers: fixture.headers, body: try body(object))
    }

    static func create(_ client: any TestClientProtocol, _ fixture: TestFixture, _ object: [String: Any]) async throws -> String {
        let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: try body(object))
        #expect(created.status == .created)
        return try #require(try created.json["id"] as? String)
    }

    @Test(arguments: TestDatabases.kinds)
    func apiKeysAndPasswordsComeFromTheTokenRouteAndAreAuditedAsTokenUse(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let key = try await Self.create(
                client,
                fixture,
                ["integration": "openai", "type": "api_key", "apiKey": "sk-alice-123", "externalUserId": "alice"]
            )
            let basic = try await Self.create(
                client,
                fixture,
                ["integration": "jira", "type": "basic", "username": "bot@example.com", "password": "p@ss \"word\""]
            )
            let apiKey = try await Self.token(client, fixture, ["integration": "openai", "externalUserId": "alice"])
            #expect(apiKey.status == .ok)
            let keyJSON = try apiKey.json
            #expect(keyJSON["type"] as? String == "api_key" && keyJSON["apiKey"] as? String == "sk-alice-123")
            #expect(keyJSON["credentialId"] as? String == key && keyJSON["accessToken"] == nil)
            let password = try await Self.token(client, fixture, ["integration": "jira", "externalUserId": "alice"])
            #expect(password.status == .ok)
            let basicJSON = try password.json
            #expect(basicJSON["type"] as? String == "basic" && basicJSON["credentialId"] as? String == basic)
            #expect(basicJSON["username"] as? String == "bot@example.com" && basicJSON["password"] as? String == "p@ss \"word\"")
            // Audited as a token use, for the console app and the end user, never as a reveal and never with the secret.
            let events = try await UnreadableCredentialTests.auditEvents(client, fixture, action: "credential.token")
            let keyEvent = try #require(events.first { $0["target"] as? String == key })
            let details = try #require(keyEvent["details"] as? [String: String])
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            #expect(details["app"] == console.id && details["end_user"] == "alice" && details["type"] == "api_key")
            #expect(try await UnreadableCredentialTests.auditEvents(client, fixture, action: "credential.reveal").isEmpty)
            let export = try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers)
            #expect(!export.text.contains("sk-alice-123") && !export.text.contains("p@ss"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func oauthAnswersSayTheirTypeAndAConnectionIdPicksItsCredentials(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let shared = try await Self.create(client, fixture, ["integration": "gitlab", "type": "oauth2", "accessToken": "shared-token"])
            let alice = try await Self.create(
                client,
                fixture,
                ["integration": "gitlab", "type": "oauth2", "accessToken": "alice-token", "externalUserId": "alice"]
            )
            _ = try await Self.create(client, fixture, ["integration": "github", "type": "oauth2", "accessToken": "gh-token"])
            let listed = try await client.execute(uri: "/api/v1/connections", method: .get, headers: fixture.headers)
            let connections = try #require(try listed.json["items"] as? [[String: Any]])
            let gitlab = try #require(connections.first { $0["integration"] as? String == "gitlab" }?["id"] as? String)
            let github = try #require(connections.first { $0["integration"] as? String == "github" }?["id"] as? String)

            let own = try await Self.token(client, fixture, ["integration": "gitlab", "connectionId": gitlab, "externalUserId": "alice"])
            #expect(try own.json["type"] as? String == "oauth2" && own.json["credentialId"] as? String == alice)
            let onlyConnection = try await Self.token(client, fixture, ["integration": "gitlab", "connectionId": gitlab.uppercased()])
            #expect(try onlyConnection.json["credentialId"] as? String == shared)
            let wrongIntegration = try await Self.token(client, fixture, ["integration": "gitlab", "connectionId": github])
            #expect(wrongIntegration.status == .badRequest && wrongIntegration.errorFields == ["connectionId"])
            let unknown = try await Self.token(client, fixture, ["integration": "gitlab", "connectionId": UUID().uuidString])
            #expect(unknown.status == .notFound)
            let malformed = try await Self.token(client, fixture, ["integration": "gitlab", "connectionId": "nope"])
            #expect(malformed.status == .badRequest && malformed.errorFields == ["connectionId"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aConsoleUserIsFoundByEmailAndNotConnectedPointsAtTheConnectionCenter(kind: TestDatabases.Kind) async throws {
        let configure: (inout ServerConfiguration) -> Void = { $0.publicURL = "https://vault.example.com" }
        try await TestApp.with(kind, configure: configure) { client, fixture in
            let person = try await TestUsers.create(fixture, email: "alice@example.com")
            let none = try await Self.token(client, fixture, ["integration": "gitlab", "externalUserId": "alice@example.com"])
            #expect(none.status == .conflict && none.errorCode == "not_connected")
            let error = try #require(try none.json["error"] as? [String: Any])
            let action = try #require(error["action"] as? [String: Any])
            #expect(action["type"] as? String == "connect" && action["url"] as? String == "https://vault.example.com/connections")
            #expect((error["message"] as? String)?.contains("https://vault.example.com/connections") == true)
            let own = try await Self.create(
                client,
                fixture,
                ["integration": "gitlab", "type": "oauth2", "accessToken": "alice-token", "externalUserId": person.id]
            )
            for name in ["alice@example.com", "ALICE@example.com", person.id] {
                let answer = try await Self.token(client, fixture, ["integration": "gitlab", "externalUserId": name])
                #expect(try answer.json["credentialId"] as? String == own)
            }
        }
    }
}
