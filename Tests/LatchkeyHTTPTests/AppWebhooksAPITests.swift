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
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

@Suite("Per-app webhooks")
struct AppWebhooksAPITests {
    /// Two external apps of the tenant, each with a Connection to `github`.
    struct World {
        var appA: App
        var appB: App
        var connectionA: String
        var connectionB: String
    }

    static func world(_ fixture: TestFixture) async throws -> World {
        let runtime = fixture.runtime
        let directory = runtime.tenants.directory
        let now = runtime.clock.now
        let appA = App(id: NewID.make(), tenantID: fixture.tenantID, name: "A", kind: .external, createdAt: now)
        let appB = App(id: NewID.make(), tenantID: fixture.tenantID, name: "B", kind: .external, createdAt: now)
        return try await runtime.database.transaction { db in
            try await directory.insertApp(appA, on: db)
            try await directory.insertApp(appB, on: db)
            let integration = try await directory.findOrCreateIntegration(tenantID: fixture.tenantID, key: "github", now: now, on: db).integration
            let a = try await directory.findOrCreateConnection(app: appA, integration: integration, now: now, on: db)
            let b = try await directory.findOrCreateConnection(app: appB, integration: integration, now: now, on: db)
            return World(appA: appA, appB: appB, connectionA: a.id, connectionB: b.id)
        }
    }

    static func put(_ client: any TestClientProtocol, _ fixture: TestFixture, _ path: String, url: String) async throws -> TestResponse {
        try await client.execute(uri: path, method: .put, headers: fixture.headers, body: try body(["url": url]))
    }

    static func credential(_ fixture: TestFixture, user: String?, connection: String?) async throws -> Credential {
        try await fixture.runtime.vault.create(
            .init(
                integration: "github",
                externalUserID: user,
                connectionID: connection,
                type: .oauth2,
                secret: CredentialSecret(accessToken: "gho_\(UUID().uuidString)")
            ),
            tenantID: fixture.tenantID,
            actor: .cli
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppHearsOnlyItsOwnUsersWhileTheTenantHearsEverything(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let world = try await Self.world(fixture)
            let created = try await Self.put(client, fixture, "/api/v1/apps/\(world.appA.id)/webhook", url: "https://a.example/hook")
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/api/v1/apps/\(world.appA.id)/webhook")
            #expect(try created.json["appId"] as? String == world.appA.id)
            #expect(
                try created.json["events"] as? [String] == [
                    "credential.created", "credential.needs_reauth", "credential.revoked", "connect_session.completed", "connect_session.failed",
                    "sync.completed",
                    "sync.failed",
                ]
            )
            let secretA = try #require(try created.json["secret"] as? String)
            let shown = try await client.execute(uri: "/api/v1/apps/\(world.appA.id)/webhook", method: .get, headers: fixture.headers)
            #expect(shown.status == .ok && !shown.text.contains(secretA))
            #expect(try shown.json["url"] as? String == "https://a.example/hook")
            let createdB = try await Self.put(client, fixture, "/api/v1/apps/\(world.appB.id)/webhook", url: "https://b.example/hook")
            let secretB = try #require(try createdB.json["secret"] as? String)
            let tenant = try await Self.put(client, fixture, "/api/v1/webhooks", url: "https://tenant.example/hook")
            let tenantSecret = try #require(try tenant.json["secret"] as? String)
            #expect(Set([secretA, secretB, tenantSecret]).count == 3)
            // The tenant endpoint is its own: setting the apps' endpoints left it unset until now, and it lists every event.
            #expect((try tenant.json["events"] as? [String])?.contains("credential.deleted") == true)

            let alice = try await Self.credential(fixture, user: "alice", connection: world.connectionA)
            let bob = try await Self.credential(fixture, user: "bob", connection: world.connectionB)
            let carol = try await Self.credential(fixture, user: "carol", connection: nil)
            try await fixture.runtime.webhooks.enqueue(
                type: WebhookEventType.connectSessionCompleted.rawValue,
                tenantID: fixture.tenantID,
                data: ["appId": .string(world.appA.id), "sessionId": "s1", "externalUserId": "alice"]
            )
            try await fixture.runtime.vault.delete(id: alice.id, tenantID: fixture.tenantID, actor: .cli, providerRevocation: .revoked)

            let receiver = FakeWebhookReceiver()
            let service = fixture.runtime.webhookDeliveryService(transport: receiver, configuration: .init(batchSize: 100, jitter: 0))
            #expect(try await service.runOnce() > 0)
            let requests = await receiver.requests
            func heard(_ host: String, secret: String) throws -> [String] {
                try requests.filter { $0.url.host == host }.map { request in
                    let body = try #require(request.body)
                    let header = try #require(request.header(WebhookSignature.headerName))
                    #expect(WebhookSignature.verify(header: header, secret: secret, body: body, now: fixture.runtime.clock.now))
                    let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
                    let data = event["data"] as? [String: Any] ?? [:]
                    return "\(event["type"] as? String ?? "?") \(data["credentialId"] as? String ?? data["sessionId"] as? String ?? "")"
                }
            }
            #expect(
                try heard("a.example", secret: secretA).sorted() == [
                    "connect_session.completed s1", "credential.created \(alice.id)", "credential.revoked \(alice.id)",
                ]
            )
            #expect(try heard("b.example", secret: secretB) == ["credential.created \(bob.id)"])
            let everything = try heard("tenant.example", secret: tenantSecret)
            for expected in [
                "credential.created \(alice.id)", "credential.created \(bob.id)", "credential.created \(carol.id)", "connect_session.completed s1",
                "credential.revoked \(alice.id)", "credential.deleted \(alice.id)",
            ] {
                #expect(everything.contains(expected), "\(expected)")
            }
            // The deliveries list shows whose endpoint each went to.
            let listed = try await WebhooksAPITests.deliveries(client, fixture)
            #expect(listed.filter { $0["appId"] as? String == world.appA.id }.count == 3)

            // Removing A's endpoint stops A's events; the tenant's keeps hearing them.
            let removed = try await client.execute(uri: "/api/v1/apps/\(world.appA.id)/webhook", method: .delete, headers: fixture.headers)
            #expect(removed.status == .noContent)
            let gone = try await client.execute(uri: "/api/v1/apps/\(world.appA.id)/webhook", method: .get, headers: fixture.headers)
            #expect(gone.status == .notFound && gone.text.contains("PUT /api/v1/apps/\(world.appA.id)/webhook"))
            // A's deliveries can be replayed only once A has an endpoint again.
            let delivered = try #require(listed.first { $0["appId"] as? String == world.appA.id }?["id"] as? String)
            let replay = try await client.execute(
                uri: "/api/v1/webhooks/deliveries/\(delivered)/replay",
                method: .post,
                headers: fixture.headers
            )
            #expect(replay.status == .conflict && replay.text.contains("/api/v1/apps/\(world.appA.id)/webhook"))
            _ = try await Self.credential(fixture, user: "dave", connection: world.connectionA)
            try await service.runOnce()
            let after = await receiver.requests.dropFirst(requests.count)
            #expect(after.count == 1 && after.first?.url.host == "tenant.example")
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == tenantSecret)

            // Deleting an app takes its endpoint with it, and its waiting deliveries are dead-lettered.
            try await fixture.runtime.webhooks.enqueue(
                type: WebhookEventType.connectSessionFailed.rawValue,
                tenantID: fixture.tenantID,
                data: ["appId": .string(world.appB.id), "sessionId": "s2"]
            )
            try await fixture.runtime.database.transaction { db in
                try await fixture.runtime.webhooks.removeEndpoint(ofApp: world.appB.id, tenantID: fixture.tenantID, actor: .cli, on: db)
            }
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID, appID: world.appB.id) == nil)
            let waiting = try await WebhooksAPITests.deliveries(client, fixture).filter { $0["appId"] as? String == world.appB.id }
            #expect(waiting.compactMap { $0["status"] as? String }.sorted() == ["dead", "delivered"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aCredentialNeedingReauthIsHeardByItsOwnAppOnly(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let world = try await Self.world(fixture)
            _ = try await Self.put(client, fixture, "/api/v1/apps/\(world.appA.id)/webhook", url: "https://a.example/hook")
            _ = try await Self.put(client, fixture, "/api/v1/apps/\(world.appB.id)/webhook", url: "https://b.example/hook")
            let alice = try await Self.credential(fixture, user: "alice", connection: world.connectionA)
            let bob = try await Self.credential(fixture, user: "bob", connection: world.connectionB)
            // Alice's stored token can no longer be read: she has to reconnect, and only app A is told.
            try await fixture.runtime.database.corruptPayload(ofCredential: alice.id)
            let revealed = try await client.execute(uri: "/api/v1/credentials/\(alice.id)/reveal", method: .post, headers: fixture.headers)
            #expect(revealed.errorCode == "decryption_failed")
            try await fixture.runtime.vault.delete(id: bob.id, tenantID: fixture.tenantID, actor: .cli, providerRevocation: .revoked)

            let receiver = FakeWebhookReceiver()
            let service = fixture.runtime.webhookDeliveryService(transport: receiver, configuration: .init(batchSize: 100, jitter: 0))
            _ = try await service.runOnce()
            func heard(_ host: String) async throws -> [String] {
                try await receiver.requests.filter { $0.url.host == host }.map { request in
                    let body = try #require(request.body)
                    let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
                    let data = event["data"] as? [String: Any] ?? [:]
                    return "\(event["type"] as? String ?? "?") \(data["credentialId"] as? String ?? "")"
                }.sorted()
            }
            #expect(try await heard("a.example") == ["credential.created \(alice.id)", "credential.needs_reauth \(alice.id)"].sorted())
            #expect(try await heard("b.example") == ["credential.created \(bob.id)", "credential.revoked \(bob.id)"].sorted())
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func onlyTheTenantsOwnAppsHaveAnEndpoint(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let world = try await Self.world(fixture)
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let other = try await fixture.runtime.tenants.createTenant(slug: "other", name: "Other", actor: .cli)
            let foreign = App(id: NewID.make(), tenantID: other.id, name: "F", kind: .external, createdAt: fixture.runtime.clock.now)
            try await fixture.runtime.database.transaction { db in try await fixture.runtime.tenants.directory.insertApp(foreign, on: db) }
            let url = "https://a.example/hook"

            for (id, status) in [(NewID.make(), HTTPResponse.Status.notFound), (foreign.id, .notFound), ("not-an-id", .badRequest)] {
                for method in [HTTPRequest.Method.get, .delete] {
                    let response = try await client.execute(uri: "/api/v1/apps/\(id)/webhook", method: method, headers: fixture.headers)
                    #expect(response.status == status, "\(method) \(id)")
                }
                #expect(try await Self.put(client, fixture, "/api/v1/apps/\(id)/webhook", url: url).status == status)
            }
            let consoleAnswer = try await Self.put(client, fixture, "/api/v1/apps/\(console.id)/webhook", url: url)
            #expect(consoleAnswer.status == .conflict && consoleAnswer.text.contains("PUT /api/v1/webhooks"))
            let badURL = try await Self.put(client, fixture, "/api/v1/apps/\(world.appA.id)/webhook", url: "http://127.0.0.1/hook")
            #expect(badURL.status == .badRequest && badURL.errorFields == ["url"])
            #expect(try await client.execute(uri: "/api/v1/apps/\(world.appA.id)/webhook", method: .put).status == .unauthorized)
            // Nothing was set anywhere.
            let count = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM webhook_endpoints").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 0)
        }
    }
}
