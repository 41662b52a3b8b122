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
import Testing

/// `POST|GET /api/v1/connect/sessions`: an app asks for a connect session for its end user and reads its outcome.
@Suite("Connect sessions API")
struct ConnectSessionsAPITests {
    static let origins = ["https://derek.example", "http://127.0.0.1:4000"]

    /// An enabled github integration and an app allowed to redirect to ``origins``.
    static func withApp<T: Sendable>(
        _ kind: TestDatabases.Kind,
        clock: TestClock = TestClock(),
        onlyIntegrations: [String]? = nil,
        _ body: @Sendable (any TestClientProtocol, TestFixture, (id: String, key: String)) async throws -> T
    ) async throws -> T {
        try await TestApp.with(
            kind,
            clock: clock,
            configure: { $0.publicURL = "https://vault.example/" },
            { client, fixture in
                for key in ["github", "gitlab"] {
                    _ = try await fixture.runtime.integrations.create(
                        .init(key: key, provider: key, clientID: "client-\(key)", clientSecret: "secret-\(key)"),
                        tenantID: fixture.tenantID,
                        actor: .cli
                    )
                }
                var object: [String: Any] = ["name": "DerekApp", "allowedRedirectOrigins": origins]
                if let onlyIntegrations { object["permissions"] = ["integrations": onlyIntegrations] }
                let app = try await AppsAPITests.createApp(client, fixture, object)
                return try await body(client, fixture, app)
            }
        )
    }

    static func create(_ client: any TestClientProtocol, key: String, _ object: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/connect/sessions", method: .post, headers: AppsAPITests.appHeaders(key), body: try body(object))
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppCreatesASessionForItsEndUserAndReadsItPending(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await Self.withApp(kind, clock: clock) { client, fixture, app in
            let created = try await Self.create(
                client,
                key: app.key,
                [
                    "externalUserId": "user_sarah_123", "integration": "github", "redirectUrl": "https://derek.example/connected?from=lk",
                    "endUser": ["displayName": "Sarah Connor", "email": "sarah@derek.example"],
                ]
            )
            #expect(created.status == .created)
            let id = try #require(try created.json["id"] as? String)
            let token = try #require(try created.json["token"] as? String)
            #expect(token.hasPrefix("lk_cs_") && token.count == "lk_cs_".count + 43)
            #expect(try created.json["connectUrl"] as? String == "https://vault.example/connect/\(token)")
            let expires = try #require(try created.json["expiresAt"] as? String)
            #expect(expires == ISO8601DateFormatter().string(from: clock.now.addingTimeInterval(30 * 60)))
            #expect(created.headers[.location] == "/api/v1/connect/sessions/\(id)")

            let shown = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(app.key))
            #expect(shown.status == .ok)
            #expect(try shown.json["status"] as? String == "pending")
            #expect(try shown.json["integration"] as? String == "github")
            #expect(try shown.json["connectionId"] is String)
            #expect(!shown.text.contains(token))

            // The end user was created with the name and email given, under this app.
            let users = try await client.execute(uri: "/api/v1/end-users", method: .get, headers: AppsAPITests.appHeaders(app.key))
            let items = try #require(try users.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["externalUserId"] as? String == "user_sarah_123")
            #expect(items.first?["displayName"] as? String == "Sarah Connor")
            #expect(items.first?["email"] as? String == "sarah@derek.example")

            // Audited, without the token.
            let audited = try await AppsAPITests.auditActions(client, fixture, "connect_session.created")
            #expect(audited.count == 1 && audited.first?["target"] as? String == id)
            let auditText = try await client.execute(uri: "/api/v1/audit", method: .get, headers: fixture.headers).text
            #expect(!auditText.contains(token))
            #expect(!fixture.logs.text.contains(token))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aSessionNotFinishedIn30MinutesReadsExpired(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await Self.withApp(kind, clock: clock) { client, _, app in
            let created = try await Self.create(client, key: app.key, ["externalUserId": "42", "integration": "github"])
            let id = try #require(try created.json["id"] as? String)
            clock.advance(by: 29 * 60)
            let before = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(app.key))
            #expect(try before.json["status"] as? String == "pending")
            clock.advance(by: 61)
            let after = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(app.key))
            #expect(try after.json["status"] as? String == "expired")
            #expect(try after.json["error"] as? String == "expired")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badInputIsRefusedInPlainWordsAndChangesNothing(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture, app in
            let good: [String: Any] = ["externalUserId": "u1", "integration": "github"]
            let cases: [(String, [String: Any], HTTPResponse.Status, String?)] = [
                ("missing externalUserId", ["integration": "github"], .badRequest, "externalUserId"),
                ("empty externalUserId", good.merging(["externalUserId": ""]) { _, b in b }, .badRequest, "externalUserId"),
                ("256 characters", good.merging(["externalUserId": String(repeating: "x", count: 256)]) { _, b in b }, .badRequest, "externalUserId"),
                ("unknown integration", good.merging(["integration": "slack"]) { _, b in b }, .badRequest, "integration"),
                ("another origin", good.merging(["redirectUrl": "https://evil.example/x"]) { _, b in b }, .badRequest, "redirectUrl"),
                (
                    "javascript:", good.merging(["redirectUrl": "javascript:alert(1)//https://derek.example"]) { _, b in b }, .badRequest,
                    "redirectUrl"
                ),
                ("user info", good.merging(["redirectUrl": "https://derek.example@evil.example/"]) { _, b in b }, .badRequest, "redirectUrl"),
                (
                    "user info on the right host", good.merging(["redirectUrl": "https://me:pw@derek.example/"]) { _, b in b }, .badRequest,
                    "redirectUrl"
                ),
                ("fragment", good.merging(["redirectUrl": "https://derek.example/back#x"]) { _, b in b }, .badRequest, "redirectUrl"),
                ("not a credential id", good.merging(["reconnectCredentialId": "nope"]) { _, b in b }, .badRequest, "reconnectCredentialId"),
                ("bad email", good.merging(["endUser": ["email": "not an email"]]) { _, b in b }, .badRequest, "endUser.email"),
                ("unknown field", good.merging(["scopes": ["x"]]) { _, b in b }, .badRequest, nil),
                (
                    "someone else's credential", good.merging(["reconnectCredentialId": "6f1c1c3e-4a6e-4d7c-9a51-0d7b6e0e7b11"]) { _, b in b },
                    .notFound, nil
                ),
            ]
            for (name, object, status, field) in cases {
                let response = try await Self.create(client, key: app.key, object)
                #expect(response.status == status, "\(name): \(response.text)")
                if let field { #expect(response.errorFields.contains(field), "\(name): \(response.text)") }
                let message = (try? response.json["error"] as? [String: Any])?["message"] as? String
                #expect(!(message ?? "").isEmpty, "\(name)")
            }
            // An admin key is not an app: 403.
            let admin = try await client.execute(uri: "/api/v1/connect/sessions", method: .post, headers: fixture.headers, body: try body(good))
            #expect(admin.status == .forbidden)
            #expect(admin.text.contains("app key"))
            // Nothing was created: no session audited, and the only end user is none (the refusals come before it).
            #expect(try await AppsAPITests.auditActions(client, fixture, "connect_session.created").isEmpty)
            let users = try await client.execute(uri: "/api/v1/end-users", method: .get, headers: AppsAPITests.appHeaders(app.key))
            #expect((try users.json["items"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppKeyLimitedToOneIntegrationCannotAskForAnother(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind, onlyIntegrations: ["gitlab"]) { client, fixture, app in
            let refused = try await Self.create(client, key: app.key, ["externalUserId": "u1", "integration": "github"])
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("github"))
            let denied = try await AppsAPITests.auditActions(client, fixture, "app.access_denied")
            #expect(denied.contains { $0["service"] as? String == "github" })
            let allowed = try await Self.create(client, key: app.key, ["externalUserId": "u1", "integration": "gitlab"])
            #expect(allowed.status == .created)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anotherAppsSessionIsNotFoundAndTheProbeIsAudited(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture, app in
            let created = try await Self.create(client, key: app.key, ["externalUserId": "u1", "integration": "github"])
            let id = try #require(try created.json["id"] as? String)
            let other = try await AppsAPITests.createApp(client, fixture, ["name": "OtherApp"])
            let probe = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(other.key))
            #expect(probe.status == .notFound)
            let denied = try await AppsAPITests.auditActions(client, fixture, "app.access_denied")
            #expect(denied.contains { $0["target"] as? String == other.id })
            let admin = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: fixture.headers)
            #expect(admin.status == .forbidden)
            let mine = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(app.key))
            #expect(mine.status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingTheEndUserOrTheAppTakesTheirSessionsWithThem(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture, app in
            let first = try await Self.create(client, key: app.key, ["externalUserId": "u1", "integration": "github"])
            #expect(first.status == .created)
            let deleted = try await client.execute(uri: "/api/v1/end-users/u1", method: .delete, headers: AppsAPITests.appHeaders(app.key))
            #expect(deleted.status == .noContent)
            let id = try #require(try first.json["id"] as? String)
            let gone = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(app.key))
            #expect(gone.status == .notFound)
            #expect(try await Self.create(client, key: app.key, ["externalUserId": "u2", "integration": "github"]).status == .created)
            let appDeleted = try await client.execute(uri: "/api/v1/apps/\(app.id)", method: .delete, headers: fixture.headers)
            #expect(appDeleted.status == .noContent)
        }
    }
}
