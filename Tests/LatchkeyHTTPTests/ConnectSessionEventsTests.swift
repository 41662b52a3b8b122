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

/// `connect_session.completed` and `connect_session.failed`: an app hears how its end users' connect sessions ended,
/// once per session, on its own endpoint (and the tenant's), and another app hears nothing of them.
@Suite("Connect session events")
struct ConnectSessionEventsTests {
    /// What each endpoint heard, as decoded events.
    struct Heard {
        var app: [[String: Any]]
        var other: [[String: Any]]
        var tenant: [[String: Any]]
        var raw: [String]

        func of(_ type: String, in events: [[String: Any]]) -> [[String: Any]] {
            events.filter { $0["type"] as? String == type }.map { $0["data"] as? [String: Any] ?? [:] }
        }
    }

    /// Gives DerekApp, a second app and the tenant each an endpoint.
    static func endpoints(_ world: HostedConnectPageTests.World) async throws {
        let other = try await AppsAPITests.createApp(world.client, world.fixture, ["name": "OtherApp"])
        for (path, url) in [
            ("/api/v1/apps/\(world.app.id)/webhook", "https://derek.example/hook"),
            ("/api/v1/apps/\(other.id)/webhook", "https://other.example/hook"), ("/api/v1/webhooks", "https://tenant.example/hook"),
        ] {
            #expect(try await AppWebhooksAPITests.put(world.client, world.fixture, path, url: url).status == .created)
        }
    }

    /// Delivers everything queued so far and returns what each endpoint has heard in all.
    static func deliver(_ world: HostedConnectPageTests.World, _ receiver: FakeWebhookReceiver) async throws -> Heard {
        let service = world.fixture.runtime.webhookDeliveryService(transport: receiver, configuration: .init(batchSize: 100, jitter: 0))
        _ = try await service.runOnce()
        var heard = Heard(app: [], other: [], tenant: [], raw: [])
        for request in await receiver.requests {
            let body = try #require(request.body)
            heard.raw.append(String(decoding: body, as: UTF8.self))
            let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            switch request.url.host {
            case "derek.example": heard.app.append(event)
            case "other.example": heard.other.append(event)
            default: heard.tenant.append(event)
            }
        }
        return heard
    }

    @Test(arguments: TestDatabases.kinds)
    func aCompletedSessionIsHeardOnceByItsAppAndTheTenantOnly(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            try await Self.endpoints(world)
            let created = try await ConnectSessionsAPITests.create(
                world.client,
                key: world.app.key,
                ["externalUserId": "user_sarah_123", "integration": "github", "redirectUrl": "https://derek.example/back"]
            )
            let id = try #require(try created.json["id"] as? String)
            let token = try #require(try created.json["token"] as? String)
            let path = "/connect/\(token)"
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            let started = try await browser.post(path, csrf: false)
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            #expect(try await browser.get(WebBrowser.pathAndQuery(callback)).location?.hasSuffix("status=success") == true)
            let read = try await HostedConnectPageTests.status(world, id)
            let credentialID = try #require(read["credentialId"] as? String)
            let connectionID = try #require(read["connectionId"] as? String)
            // Reading the finished session and opening its link again change nothing.
            _ = try await HostedConnectPageTests.status(world, id)
            _ = try await browser.get(path)

            let receiver = FakeWebhookReceiver()
            let heard = try await Self.deliver(world, receiver)
            let completed = heard.of("connect_session.completed", in: heard.app)
            #expect(completed.count == 1)
            let data = try #require(completed.first)
            #expect(data["sessionId"] as? String == id)
            #expect(data["appId"] as? String == world.app.id)
            #expect(data["externalUserId"] as? String == "user_sarah_123")
            #expect(data["integration"] as? String == "github")
            #expect(data["connectionId"] as? String == connectionID)
            #expect(data["credentialId"] as? String == credentialID)
            #expect(data["error"] == nil)
            #expect(heard.of("credential.created", in: heard.app).map { $0["credentialId"] as? String } == [credentialID])
            #expect(heard.of("connect_session.completed", in: heard.tenant).count == 1)
            #expect(heard.of("connect_session.failed", in: heard.app + heard.tenant).isEmpty)
            // Another app hears nothing of DerekApp's users.
            #expect(heard.other.isEmpty)
            // Never the session token or the provider's tokens.
            for body in heard.raw {
                #expect(!body.contains(token) && !body.contains("lk_cs_") && !body.contains("gho_"))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aSessionWhoseCredentialCannotBeStoredFailsAtOnceInsteadOfStayingClaimed(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            try await Self.endpoints(world)
            let (id, path) = try await HostedConnectPageTests.session(world)
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            let started = try await browser.post(path, csrf: false)
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            // The database refuses every new credential from now on.
            try await world.fixture.runtime.database.write { db in
                if kind == .postgres {
                    try await db.raw(
                        "CREATE FUNCTION refuse_credentials() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                    ).run()
                    try await db.raw("CREATE TRIGGER refuse BEFORE INSERT ON credentials FOR EACH ROW EXECUTE FUNCTION refuse_credentials()").run()
                } else {
                    try await db.raw("CREATE TRIGGER refuse BEFORE INSERT ON credentials BEGIN SELECT RAISE(ABORT, 'disk full'); END").run()
                }
            }
            let answer = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(answer.status.code >= 500)
            #expect(!answer.text.contains("disk full"))
            let read = try await HostedConnectPageTests.status(world, id)
            #expect(read["status"] as? String == "failed")
            #expect(read["credentialId"] == nil)
            let receiver = FakeWebhookReceiver()
            let heard = try await Self.deliver(world, receiver)
            #expect(heard.of("connect_session.failed", in: heard.app).map { $0["error"] as? String } == ["internal_error"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deniedAttemptsAreNotFailuresButTheSessionsExpiryIsOnce(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            try await Self.endpoints(world)
            let (id, path) = try await HostedConnectPageTests.session(world)
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            // Two denials at the provider: the person may try again, so the app is told nothing yet.
            for _ in 0..<2 {
                let started = try await browser.post(path, csrf: false)
                let denied = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))), approve: false)
                #expect(try await browser.get(WebBrowser.pathAndQuery(denied)).status == .badRequest)
            }
            let receiver = FakeWebhookReceiver()
            let early = try await Self.deliver(world, receiver)
            #expect(early.of("connect_session.failed", in: early.app + early.tenant).isEmpty)

            // The 30 minutes end; the app reading the session notices, and so does the page: one event.
            world.clock.advance(by: 30 * 60)
            #expect(try await HostedConnectPageTests.status(world, id)["status"] as? String == "expired")
            #expect(try await HostedConnectPageTests.status(world, id)["status"] as? String == "expired")
            #expect(try await browser.get(path).text.contains("expired"))
            let heard = try await Self.deliver(world, receiver)
            let failed = heard.of("connect_session.failed", in: heard.app)
            #expect(failed.count == 1)
            #expect(failed.first?["sessionId"] as? String == id)
            #expect(failed.first?["error"] as? String == "expired")
            #expect(failed.first?["externalUserId"] as? String == "user_sarah_123")
            #expect(failed.first?["integration"] as? String == "github")
            #expect(failed.first?["credentialId"] == nil)
            #expect(heard.of("connect_session.failed", in: heard.tenant).count == 1)
            #expect(heard.other.isEmpty)
            // The expiry noticed by the app's read is audited once, like the webhook.
            let tenant = world.fixture.runtime.defaultTenant.id
            let audited = try await world.fixture.runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 500)
                .filter { $0.action == "connect_session.failed" && $0.target == id }
            #expect(audited.count == 1)
            #expect(audited.first?.details["error"] == "expired")
            #expect(audited.first?.service == "github")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aFailedExchangeIsHeardOnceWithItsErrorCode(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            try await Self.endpoints(world)
            let (id, path) = try await HostedConnectPageTests.session(world)
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            let started = try await browser.post(path, csrf: false)
            await world.fake.nextTokenResponse(.error("invalid_grant"))
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            #expect(try await browser.get(WebBrowser.pathAndQuery(callback)).location?.hasSuffix("error=provider_error") == true)
            // The same callback again, and the expiry later, add nothing.
            _ = try await browser.get(WebBrowser.pathAndQuery(callback))
            world.clock.advance(by: 30 * 60)
            _ = try await HostedConnectPageTests.status(world, id)
            let heard = try await Self.deliver(world, FakeWebhookReceiver())
            let failed = heard.of("connect_session.failed", in: heard.app)
            #expect(failed.count == 1)
            #expect(failed.first?["error"] as? String == "provider_error")
            #expect(failed.first?["appId"] as? String == world.app.id)
            #expect(heard.of("connect_session.completed", in: heard.app).isEmpty)
            #expect(heard.other.isEmpty)
        }
    }
}
