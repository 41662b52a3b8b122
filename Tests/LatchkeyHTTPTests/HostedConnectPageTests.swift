import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The hosted connect page `/connect/{token}` through the real router: an app's end user connects GitHub (a
/// FakeProvider playing the catalog entry) without signing in to Latchkey, and the app reads the outcome.
@Suite("Hosted connect page")
struct HostedConnectPageTests {
    struct World: Sendable {
        let client: any TestClientProtocol
        let fixture: TestFixture
        let fake: FakeProvider
        let clock: TestClock
        let app: (id: String, key: String)
    }

    static func withWorld<T: Sendable>(
        _ kind: TestDatabases.Kind = .sqlite,
        provider id: String = "github",
        _ body: @Sendable (World) async throws -> T
    ) async throws -> T {
        let clock = TestClock()
        let provider = try #require(ConnectFlowTests.catalog.provider(id: id))
        let fake = try FakeProvider(provider: provider, endpoints: nil, issuer: nil, clock: clock)
        return try await TestApp.with(kind, clock: clock, transport: FakeNetwork([fake])) { client, fixture in
            let oauth = provider.oauth != nil
            _ = try await fixture.runtime.integrations.create(
                .init(key: id, provider: id, clientID: oauth ? "fake-client-id" : nil, clientSecret: oauth ? "fake-client-secret" : nil),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let app = try await AppsAPITests.createApp(
                client,
                fixture,
                [
                    "name": "DerekApp", "allowedRedirectOrigins": ["https://derek.example"],
                    "branding": ["displayName": "Derek", "accentColor": "#aa3300", "privacyUrl": "https://derek.example/privacy"],
                ]
            )
            return try await body(World(client: client, fixture: fixture, fake: fake, clock: clock, app: app))
        }
    }

    /// A session for `externalUserId`; returns its id and the path of its page.
    static func session(
        _ world: World,
        user: String = "user_sarah_123",
        redirect: String? = "https://derek.example/back",
        reconnect: String? = nil,
        integration: String = "github"
    ) async throws -> (id: String, path: String) {
        var object: [String: Any] = ["externalUserId": user, "integration": integration]
        if let redirect { object["redirectUrl"] = redirect }
        if let reconnect { object["reconnectCredentialId"] = reconnect }
        let created = try await ConnectSessionsAPITests.create(world.client, key: world.app.key, object)
        #expect(created.status == .created)
        let connectURL = try #require(try created.json["connectUrl"] as? String)
        let url = try #require(URL(string: connectURL))
        return (try #require(try created.json["id"] as? String), url.path)
    }

    static func status(_ world: World, _ id: String) async throws -> [String: Any] {
        try await world.client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: AppsAPITests.appHeaders(world.app.key)).json
    }

    @Test(arguments: TestDatabases.kinds)
    func anEndUserConnectsWithoutSigningInAndTheAppReadsTheResult(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            let (id, path) = try await Self.session(world)
            let browser = WebBrowser(world.client)
            let page = try await browser.get(path)
            #expect(page.status == .ok)
            #expect(page.text.contains("Connect GitHub to Derek"))
            #expect(page.text.contains(#"href="https://derek.example/privacy""#))
            #expect(page.text.contains("--accent: #aa3300"))
            #expect(page.text.contains(#"id="permissions""#))
            #expect(page.text.contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("form-action 'self' https://derek.example https://github.com;"))
            #expect(policy.contains("frame-ancestors 'none'") && page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")

            let started = try await browser.post(path, csrf: false)
            #expect(started.status == .seeOther)
            let authorize = try #require(started.location.flatMap(URL.init(string:)))
            #expect(authorize.host == "github.com")
            let callback = try await world.fake.authorize(url: authorize, accountID: "583231", email: "sarah@derek.example")
            let back = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(back.status == .seeOther)
            #expect(back.location == "https://derek.example/back?session_id=\(id)&status=success")

            let read = try await Self.status(world, id)
            #expect(read["status"] as? String == "completed")
            let credentialID = try #require(read["credentialId"] as? String)
            let connectionID = try #require(read["connectionId"] as? String)
            // Stored under the app's Connection for that end user, not the console's.
            let credential = try await world.fixture.runtime.vault.get(id: credentialID, tenantID: world.fixture.tenantID, actor: .cli)
            #expect(credential.connectionID == connectionID)
            #expect(credential.externalUserID == "user_sarah_123")
            #expect(credential.providerAccountID == "583231")
            // The app has no OAuth client of its own here: the integration's issued it, and refresh will use that one.
            #expect(credential.issuedBy == "integration")
            let connection = try #require(
                try await world.fixture.runtime.tenants.directory.connection(id: connectionID, tenantID: world.fixture.tenantID)
            )
            #expect(connection.appID == world.app.id)
            #expect(try await AppsAPITests.auditActions(world.client, world.fixture, "connect_session.completed").count == 1)

            // Single use: the link now says so.
            let again = try await browser.get(path)
            #expect(again.status == .badRequest)
            #expect(again.text.contains("already used"))

            // Reconnect re-authorizes the same credential in place.
            let (reID, rePath) = try await Self.session(world, reconnect: credentialID)
            _ = try await browser.get(rePath)
            let reStart = try await browser.post(rePath, csrf: false)
            let reCallback = try await world.fake.authorize(url: try #require(reStart.location.flatMap(URL.init(string:))), accountID: "583231")
            _ = try await browser.get(WebBrowser.pathAndQuery(reCallback))
            let reRead = try await Self.status(world, reID)
            #expect(reRead["status"] as? String == "completed")
            #expect(reRead["credentialId"] as? String == credentialID)
            let all = try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init(connectionID: connectionID))
            #expect(all.items.count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theLinkIsBoundToTheBrowserThatFirstOpensIt(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            let (id, path) = try await Self.session(world)
            let first = WebBrowser(world.client)
            #expect(try await first.get(path).status == .ok)
            let second = WebBrowser(world.client)
            let refused = try await second.get(path)
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("another browser"))
            let post = try await second.post(path, csrf: false)
            #expect(post.status == .badRequest && post.location == nil)
            // The first browser goes on; the second cannot finish its callback either.
            let started = try await first.post(path, csrf: false)
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            let stolen = try await second.get(WebBrowser.pathAndQuery(callback))
            #expect(stolen.status == .badRequest && stolen.text.contains("another browser"))
            #expect(try await Self.status(world, id)["status"] as? String == "pending")
            let finished = try await first.get(WebBrowser.pathAndQuery(callback))
            #expect(finished.location?.hasSuffix("status=success") == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aDenialLeavesTheSessionOpenForAnotherAttempt(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            let (id, path) = try await Self.session(world)
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            let first = try await browser.post(path, csrf: false)
            let denied = try await world.fake.authorize(url: try #require(first.location.flatMap(URL.init(string:))), approve: false)
            let page = try await browser.get(WebBrowser.pathAndQuery(denied))
            #expect(page.status == .badRequest)
            #expect(page.text.contains("You did not allow access at GitHub"))
            #expect(page.text.contains(#"action="\#(path)""#) && page.text.contains("Try again"))
            #expect(page.text.contains("session_id=\(id)&amp;status=failed&amp;error=access_denied"))
            #expect(try await Self.status(world, id)["status"] as? String == "pending")
            // The denial is audited, for the app and its end user.
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            let denial = try #require(events.first { $0.action == "connect.denied" })
            #expect(denial.result == "failure" && denial.service == "github" && denial.details["error"] == "access_denied")
            #expect(denial.details["connect_session"] == id && denial.actor.hasPrefix("app:"))
            // The spent state is not accepted again.
            let replay = try await browser.get(WebBrowser.pathAndQuery(denied))
            #expect(replay.status == .badRequest)
            #expect(try await Self.status(world, id)["status"] as? String == "pending")
            // A new attempt on the same link, ten minutes later, succeeds.
            world.clock.advance(by: 10 * 60)
            let second = try await browser.post(path, csrf: false)
            #expect(second.status == .seeOther)
            let approved = try await world.fake.authorize(url: try #require(second.location.flatMap(URL.init(string:))))
            let back = try await browser.get(WebBrowser.pathAndQuery(approved))
            #expect(back.location == "https://derek.example/back?session_id=\(id)&status=success")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aProviderThatGivesNoTokensFailsTheSessionAndTheAppIsTold(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            let (id, path) = try await Self.session(world)
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            let started = try await browser.post(path, csrf: false)
            await world.fake.nextTokenResponse(.error("invalid_grant"))
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            let back = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(back.location == "https://derek.example/back?session_id=\(id)&status=failed&error=provider_error")
            let read = try await Self.status(world, id)
            #expect(read["status"] as? String == "failed")
            #expect(read["error"] as? String == "provider_error")
            #expect(read["credentialId"] == nil)
            let failed = try await AppsAPITests.auditActions(world.client, world.fixture, "connect_session.failed")
            #expect(failed.count == 1 && failed.first?["target"] as? String == id)
            // Failed is final: the link cannot start another attempt.
            #expect(try await browser.get(path).text.contains("already used"))
        }
    }

    @Test func anAPIKeyIsCheckedWithTheProviderAndStoredFromThePagesForm() async throws {
        try await Self.withWorld(provider: "openai") { world in
            let (id, path) = try await Self.session(world, integration: "openai")
            let browser = WebBrowser(world.client)
            let page = try await browser.get(path)
            #expect(page.text.contains(#"name="api_key""#))
            let empty = try await browser.post(path, csrf: false)
            #expect(empty.status == .badRequest && empty.text.contains("Please fill in every field"))
            let wrong = try await browser.post(path, ["api_key": "sk-wrong"], csrf: false)
            #expect(wrong.status == .badRequest && wrong.text.contains("did not accept"))
            #expect(!wrong.text.contains("sk-wrong"))
            #expect(try await Self.status(world, id)["status"] as? String == "pending")
            let right = try await browser.post(path, ["api_key": world.fake.apiKey], csrf: false)
            #expect(right.location == "https://derek.example/back?session_id=\(id)&status=success")
            let read = try await Self.status(world, id)
            let credentialID = try #require(read["credentialId"] as? String)
            let (credential, secret) = try await world.fixture.runtime.vault.reveal(id: credentialID, tenantID: world.fixture.tenantID, actor: .cli)
            #expect(credential.type == .apiKey && credential.externalUserID == "user_sarah_123")
            #expect(secret.apiKey == world.fake.apiKey)
            // The page's form may lead back to the app once the key is stored.
            #expect(page.headers[.contentSecurityPolicy]?.contains("form-action 'self' https://derek.example;") == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func expiredAndUnknownLinksShowClearPages(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            let browser = WebBrowser(world.client)
            let unknown = try await browser.get("/connect/lk_cs_" + String(repeating: "A", count: 43))
            #expect(unknown.status == .badRequest && unknown.text.contains("not valid"))
            let (id, path) = try await Self.session(world)
            _ = try await browser.get(path)
            let started = try await browser.post(path, csrf: false)
            world.clock.advance(by: 30 * 60)
            let late = try await browser.get(path)
            #expect(late.status == .badRequest && late.text.contains("expired"))
            #expect(try await Self.status(world, id)["status"] as? String == "expired")
            // A callback for an attempt begun before the end is refused too.
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            let refused = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(refused.status == .badRequest)
            #expect(try await Self.status(world, id)["status"] as? String == "expired")
        }
    }

    @Test func withoutARedirectURLAFinishedPageSaysSo() async throws {
        try await Self.withWorld { world in
            let (_, path) = try await Self.session(world, redirect: nil)
            let browser = WebBrowser(world.client)
            _ = try await browser.get(path)
            let started = try await browser.post(path, csrf: false)
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            let done = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(done.status == .ok)
            #expect(done.text.contains("GitHub is connected"))
            #expect(done.text.contains("You can close this window"))
            // The outcome for /connect.js in the app's window: posted only to the app's allowed origins, by our own
            // script (no inline script anywhere).
            #expect(done.text.contains(#"data-status="success""#))
            #expect(done.text.contains(#"data-origins="https://derek.example""#))
            #expect(done.text.contains(#"<script src="/connect.js"></script>"#))
            #expect(!done.text.contains("<script>"))
            let policy = try #require(done.headers[.contentSecurityPolicy])
            #expect(policy.hasPrefix("default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self';"))
            // The page with Connect runs no script at all.
            let (_, other) = try await Self.session(world, user: "another")
            let page = try await browser.get(other)
            #expect(!(page.headers[.contentSecurityPolicy] ?? "").contains("script-src"))
        }
    }

    @Test func connectJSAcceptsMessagesOnlyFromThisServersOrigin() async throws {
        try await Self.withWorld { world in
            let script = try await world.client.execute(uri: "/connect.js", method: .get)
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            let origin = world.fixture.runtime.configuration.effectivePublicURL
            #expect(script.text.contains(#"var LATCHKEY_ORIGIN = "\#(origin)";"#))
            #expect(script.text.contains("event.origin !== LATCHKEY_ORIGIN || event.source !== popup"))
            #expect(script.text.contains("window.opener.postMessage(message, origin)"))
            #expect(!script.text.contains(#"postMessage(message, "*")"#))
        }
    }
}
