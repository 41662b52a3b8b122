import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyIdentity
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// A person whose credential needs reconnecting sees a banner on their Connection Center and the overview, and — with
/// a mail server — gets one email about it: not one per failed retry, and another only after a reconnect and a new
/// failure. Nothing secret in the mail.
@Suite("Re-authorization notices")
struct ReauthNoticeTests {
    struct World: Sendable {
        let client: any TestClientProtocol
        let fixture: TestFixture
        let fake: FakeProvider
        let clock: TestClock
        let smtp: FakeSMTPServer
        let browser: WebBrowser
        let user: User
    }

    static func withWorld(_ kind: TestDatabases.Kind, _ body: @Sendable (World) async throws -> Void) async throws {
        let clock = TestClock()
        let provider = try #require(ConnectFlowTests.catalog.provider(id: "gitlab"))
        let fake = try FakeProvider(provider: provider, clock: clock)
        try await FakeSMTPServer.run { smtp in
            try await TestApp.with(
                kind,
                clock: clock,
                transport: FakeNetwork([fake]),
                configure: {
                    $0.smtp = SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "latchkey@example.com")
                    $0.publicURL = "https://latchkey.example"
                    // The test clock moves hours ahead: the browser stays signed in.
                    $0.sessionIdle = .seconds(30 * 86400)
                    $0.sessionLifetime = .seconds(30 * 86400)
                }
            ) { client, fixture in
                _ = try await fixture.runtime.integrations.create(
                    .init(key: "gitlab", provider: "gitlab", clientID: "fake-client-id", clientSecret: "fake-client-secret"),
                    tenantID: fixture.tenantID,
                    actor: .cli
                )
                let user = try await TestUsers.create(fixture, email: "alice@example.com", admin: true)
                let browser = WebBrowser(client)
                _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
                try await body(World(client: client, fixture: fixture, fake: fake, clock: clock, smtp: smtp, browser: browser, user: user))
            }
        }
    }

    /// Connects (or reconnects `credentialID`) GitLab account "1" through the console.
    static func connect(_ world: World, reconnect credentialID: String? = nil) async throws {
        _ = try await world.browser.get("/connections")
        let started = try await world.browser.post(credentialID.map { "/connections/\($0)/reconnect" } ?? "/connections/gitlab/connect")
        let authorize = try #require(started.location.flatMap(URL.init(string:)))
        let callback = try await world.fake.authorize(url: authorize, accountID: "1", email: "alice@gitlab.example")
        #expect(try await world.browser.get(WebBrowser.pathAndQuery(callback)).status == .seeOther)
    }

    /// The token is past its expiry and GitLab refuses the refresh: asking for it fails with needs_reauth.
    static func failRefresh(_ world: World) async throws {
        await world.fake.revokeAllGrants()
        world.clock.advance(by: 7200)
        for _ in 0..<2 {
            let answer = try await world.client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: world.fixture.headers,
                body: try body(["integration": "gitlab", "externalUserId": world.user.id])
            )
            #expect(answer.status == .conflict)
            #expect(answer.errorCode == "needs_reauth")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func oneEmailPerTimeACredentialNeedsReconnectingAndABannerUntilItIs(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            try await Self.connect(world)
            let credential = try #require(
                try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init(externalUserID: world.user.id)).items.first
            )
            let (_, firstSecret) = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            let notices = try #require(world.fixture.runtime.reauthNoticeService())
            #expect(try await notices.runOnce() == 0)
            for path in ["/connections", "/admin"] { #expect(!(try await world.browser.get(path).text.contains("reauth-banner")), "\(path)") }

            // Two failed refreshes, two passes: one email.
            try await Self.failRefresh(world)
            #expect(try await notices.runOnce() == 1)
            try await Self.failRefresh(world)
            #expect(try await notices.runOnce() == 0)
            #expect(world.smtp.messages.count == 1)
            let message = try #require(world.smtp.messages.first)
            #expect(message.recipients == ["alice@example.com"])
            #expect(message.data.contains("Subject: Reconnect GitLab to keep using it"))
            #expect(message.body.contains("alice@gitlab.example"))
            #expect(message.body.contains("https://latchkey.example/connections"))
            for secret in [firstSecret.accessToken, firstSecret.refreshToken].compactMap({ $0 }) {
                #expect(!message.data.contains(secret))
                #expect(!world.fixture.logs.text.contains(secret))
            }

            // The banner names the service on both pages: a Reconnect form on the Connection Center, a link elsewhere.
            let center = try await world.browser.get("/connections")
            #expect(center.text.contains(#"id="reauth-banner""#))
            #expect(center.text.contains("Your GitLab connection (alice@gitlab.example) stopped working"))
            #expect(center.text.contains(#"<form method="post" action="/connections/\#(credential.id)/reconnect" class="reauth-form">"#))
            let overview = try await world.browser.get("/admin")
            #expect(overview.text.contains(#"id="reauth-banner""#))
            #expect(overview.text.contains(#"<a class="reconnect-link" href="/connections#connection-\#(credential.id)">Reconnect GitLab</a>"#))
            #expect(center.text.contains(#"id="connection-\#(credential.id)""#))

            // Reconnected: no banner, nothing to send; a new failure sends a new email.
            try await Self.connect(world, reconnect: credential.id)
            let reconnected = try #require(try await world.fixture.runtime.vault.load(id: credential.id, tenantID: world.fixture.tenantID))
            #expect(reconnected.stored.credential.status == .active)
            #expect(!(try await world.browser.get("/connections").text.contains("reauth-banner")))
            #expect(try await notices.runOnce() == 0)
            try await Self.failRefresh(world)
            #expect(try await notices.runOnce() == 1)
            #expect(world.smtp.messages.count == 2)
        }
    }

    @Test func anEmailThatCannotBeSentIsTriedAgain() async throws {
        try await Self.withWorld(.sqlite) { world in
            try await Self.connect(world)
            try await Self.failRefresh(world)
            // No mail server at this address: the notice is released, and sent by a later pass to the real one.
            var settings = try #require(world.fixture.runtime.configuration.smtp)
            settings.port = 1
            let unreachable = ReauthNoticeService(
                notices: ReauthNoticeRepository(database: world.fixture.runtime.database),
                mailer: SMTPClient(settings: settings),
                catalog: world.fixture.runtime.catalog,
                publicURL: "https://latchkey.example",
                clock: world.clock,
                logger: world.fixture.logs.logger()
            )
            #expect(try await unreachable.runOnce() == 0)
            #expect(world.fixture.logs.text.contains("re-authorization notice not sent"))
            #expect(try await #require(world.fixture.runtime.reauthNoticeService()).runOnce() == 1)
            #expect(world.smtp.messages.count == 1)
        }
    }
}
