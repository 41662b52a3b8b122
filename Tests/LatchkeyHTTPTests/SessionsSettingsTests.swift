import Foundation
import HTTPTypes
import LatchkeyAuthServer
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Console sessions: idle and absolute timeouts as settings, the person's list of sessions, ending one, signing out
/// everywhere.
@Suite("Sessions")
struct SessionsSettingsTests {
    /// The public ids of the sessions a sessions page lists, and the one marked as this browser's.
    static func listed(_ page: WebBrowser.Page) -> (ids: [String], current: String?) {
        let rows = page.text.matches(of: #/<tr class="web-session" data-session-id="(ses_[A-Za-z0-9_-]+)"( data-current="true")?>/#)
        return (rows.map { String($0.output.1) }, rows.first { $0.output.2 != nil }.map { String($0.output.1) })
    }

    @Test func sessionTimeoutsAreSettingsInMinutesOrWithAUnit() throws {
        #expect(try ServerConfiguration.sessionDuration("90", setting: "X") == .seconds(90 * 60))
        #expect(try ServerConfiguration.sessionDuration("45m", setting: "X") == .seconds(45 * 60))
        #expect(try ServerConfiguration.sessionDuration(" 2H ", setting: "X") == .seconds(2 * 3600))
        #expect(try ServerConfiguration.sessionDuration("7d", setting: "X") == .seconds(7 * 86400))
        var configuration = ServerConfiguration()
        #expect(configuration.sessionIdle == .seconds(2 * 3600) && configuration.sessionLifetime == .seconds(12 * 3600))
        try configuration.applyEnvironment(["LATCHKEY_SESSION_IDLE": "30m", "LATCHKEY_SESSION_LIFETIME": "1d"])
        #expect(configuration.sessionIdle == .seconds(1800) && configuration.sessionLifetime == .seconds(86400))
        for value in ["0", "2x", "1.5h", "-5", "91d", "h", "9999999"] {
            var other = ServerConfiguration()
            let error = #expect(throws: ConfigurationError.self) { try other.applyEnvironment(["LATCHKEY_SESSION_IDLE": value]) }
            #expect(error?.description.contains("LATCHKEY_SESSION_IDLE must be a number of minutes") == true, "\(value)")
        }
        // An idle limit longer than the lifetime could never apply: said before the server starts.
        var backwards = ServerConfiguration()
        try backwards.applyEnvironment(["LATCHKEY_SESSION_IDLE": "3h", "LATCHKEY_SESSION_LIFETIME": "2h"])
        let error = #expect(throws: ConfigurationError.self) { try backwards.validate() }
        #expect(error?.description.contains("idle limit (3h) is longer than the session lifetime (2h)") == true)
    }

    @Test(arguments: TestDatabases.kinds)
    func aSessionEndsAfterTheIdleLimitAndAtItsLifetimeDespiteActivity(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        let settings: (inout ServerConfiguration) -> Void = { configuration in
            configuration.sessionIdle = .seconds(30 * 60)
            configuration.sessionLifetime = .seconds(2 * 3600)
        }
        try await TestApp.with(kind, clock: clock, configure: settings) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let idle = WebBrowser(client)
            _ = try await idle.signIn(email: "alice@example.com", password: "correct-horse-battery")
            clock.advance(by: 29 * 60)
            #expect(try await idle.get("/connections").status == .ok)
            // 29 minutes after the last request it still counts; 31 without one, it has ended.
            clock.advance(by: 29 * 60)
            #expect(try await idle.get("/connections").status == .ok)
            clock.advance(by: 31 * 60)
            let ended = try await idle.get("/connections")
            #expect(ended.status == .seeOther && ended.location == "/login?next=/connections")

            let busy = WebBrowser(client)
            _ = try await busy.signIn(email: "alice@example.com", password: "correct-horse-battery")
            // A request every 20 minutes keeps it going until two hours after sign-in, not beyond.
            for _ in 0..<5 {
                clock.advance(by: 20 * 60)
                #expect(try await busy.get("/connections").status == .ok)
            }
            clock.advance(by: 20 * 60 + 1)
            let expired = try await busy.get("/connections")
            #expect(expired.status == .seeOther && expired.location == "/login?next=/connections")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPersonSeesTheirSessionsAndEndsAnother(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            try await TestUsers.create(fixture, email: "bob@example.com")
            let laptop = WebBrowser(client)
            await laptop.setHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
            _ = try await laptop.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let phone = WebBrowser(client)
            await phone.setHeader(
                "User-Agent",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Safari/604.1"
            )
            _ = try await phone.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let bob = WebBrowser(client)
            _ = try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery")

            let page = try await laptop.get("/settings/sessions")
            #expect(page.status == .ok)
            let (ids, current) = Self.listed(page)
            #expect(ids.count == 2)
            #expect(page.text.contains("Chrome on Linux") && page.text.contains("Safari on iPhone") && page.text.contains("this browser"))
            #expect(page.text.contains("Password"))
            let laptopID = try #require(current)
            let phoneID = try #require(ids.first { $0 != laptopID })
            // Neither the cookie nor its hash is shown.
            let cookie = try #require(await laptop.cookies["latchkey_session"])
            #expect(!page.text.contains(cookie) && !laptopID.contains(cookie.prefix(12)))
            // Bob cannot end Alice's session by its id.
            _ = try await bob.get("/settings/sessions")
            #expect(try await bob.post("/settings/sessions/\(phoneID)/end").status == .notFound)
            #expect(try await bob.get("/settings/sessions/\(phoneID)/end").status == .notFound)
            #expect(try await phone.get("/connections").status == .ok)

            let confirm = try await laptop.get("/settings/sessions/\(phoneID)/end")
            #expect(confirm.status == .ok && confirm.text.contains("End this session?") && confirm.text.contains("Safari on iPhone"))
            let ended = try await laptop.post("/settings/sessions/\(phoneID)/end")
            #expect(ended.status == .seeOther && ended.location == "/settings/sessions")
            #expect(try await phone.get("/connections").location == "/login?next=/connections")
            let after = try await laptop.get("/settings/sessions")
            #expect(Self.listed(after).ids == [laptopID])
            #expect(after.text.contains("That session has ended"))
            let event = try #require(try await fixture.auditEvents().last { $0.action == "user.sign_out" })
            #expect(event.target == alice.id && event.details["session"] == phoneID && event.actor == "user:\(alice.id)")
            // Ending this browser's own session is signing out here.
            let own = try await laptop.post("/settings/sessions/\(laptopID)/end")
            #expect(own.location == "/login")
            #expect(try await laptop.get("/connections").location == "/login?next=/connections")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func signingOutEverywhereEndsEverySessionAndRevokesAuthorizedApps(kind: TestDatabases.Kind) async throws {
        try await OAuthServerTests.withAlice(kind) { browser, fixture, client, alice in
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let (_, _, tokens) = try await OAuthServerTests.consentedTokens(browser, client)
            let access = try #require(tokens["access_token"] as? String)
            let other = WebBrowser(client)
            _ = try await other.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let bob = WebBrowser(client)
            try await TestUsers.create(fixture, email: "bob@example.com")
            _ = try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery")

            let confirm = try await browser.get("/settings/sessions/end-all")
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains("Your 2 sessions end at once") && confirm.text.contains("revokes the application you authorized"))
            let out = try await browser.post("/settings/sessions/end-all")
            #expect(out.location == "/login?signed_out=1")
            #expect(try await browser.get(try #require(out.location)).text.contains("can no longer use your services"))
            #expect(try await browser.get("/connections").location == "/login?next=/connections")
            #expect(try await other.get("/connections").location == "/login?next=/connections")
            // Another person's sessions are theirs.
            #expect(try await bob.get("/connections").status == .ok)
            #expect(try await fixture.runtime.authorizationServer().verifyAccessToken(access) == nil)
            let events = try await fixture.auditEvents()
            let ended = try #require(events.last { $0.action == "user.sessions_ended" })
            #expect(ended.target == alice.id && ended.details["sessions"] == "2")
            #expect(events.contains { $0.action == "oauth.grant.revoke" && $0.details["reason"] == "sign_out" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aWeakSessionSeesSessionsButEndsNone(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let strong = WebBrowser(client)
            _ = try await strong.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let sessions = WebSessions(store: fixture.runtime.webSessionStore, keyring: fixture.runtime.keyring, clock: fixture.runtime.clock)
            let token = try await sessions.create(user: alice, method: .app, ip: nil, userAgent: nil)
            let weak = WebBrowser(client)
            await weak.setCookie("latchkey_session", token)
            let page = try await weak.get("/settings/sessions")
            #expect(page.status == .ok && page.text.contains("look only"))
            let strongID = try #require(Self.listed(try await strong.get("/settings/sessions")).current)
            await weak.setHeader("Referer", "http://localhost/settings/sessions")
            let end = try await weak.post("/settings/sessions/\(strongID)/end")
            #expect(end.status == .seeOther && end.location == "/login?next=/settings/sessions")
            let all = try await weak.post("/settings/sessions/end-all")
            #expect(all.location == "/login?next=/settings/sessions")
            #expect(try await strong.get("/connections").status == .ok)
            #expect(try await sessions.find(token) != nil)
            #expect(try await fixture.auditEvents().contains { $0.action == "user.sign_out" || $0.action == "user.sessions_ended" } == false)
        }
    }
}
