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

/// Link codes (issue 14, point 4): a bot asks who its Slack user is, is told to send them to `/link` with a code, the
/// person types it while signed in, and from then on the bot's calls act as that person.
@Suite("Link codes")
struct LinkCodeTests {
    static var slack: [String: Any] { ["provider": "slack", "subject": "T1/U2", "displayName": "Alice"] }

    static func resolve(_ client: any TestClientProtocol, _ key: String, _ object: [String: Any] = slack) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/identities/resolve", method: .post, headers: AppsAPITests.appHeaders(key), body: try body(object))
    }

    /// The code of a `link_required` answer, checked to be one.
    static func code(of response: TestResponse) throws -> String {
        #expect(response.status == .forbidden, "\(response.text)")
        let error = try #require(try response.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "link_required")
        let code = try #require(error["linkCode"] as? String)
        #expect(code.range(of: #"^[A-HJKMNP-Z]{3}-[0-9]{3}$"#, options: .regularExpression) != nil)
        #expect(error["message"] as? String == "Link your Slack account first: visit http://127.0.0.1:0/link and enter code \(code).")
        let action = try #require(error["action"] as? [String: Any])
        #expect(action["type"] as? String == "link")
        #expect(action["url"] as? String == "http://127.0.0.1:0/link")
        #expect(error["expiresAt"] is String)
        return code
    }

    /// Alice signed in with her password, on the `/link` page.
    static func alice(_ client: any TestClientProtocol, _ fixture: TestFixture) async throws -> (User, WebBrowser) {
        let alice = try await TestUsers.create(fixture, email: "alice@example.com")
        let browser = WebBrowser(client)
        #expect(try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery").status == .seeOther)
        #expect(try await browser.get("/link").status == .ok)
        return (alice, browser)
    }

    @Test(arguments: TestDatabases.kinds)
    func aBotIsToldToLinkThenKnowsThePerson(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (appID, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            let code = try Self.code(of: try await Self.resolve(client, key))
            let (alice, browser) = try await Self.alice(client, fixture)
            // Typed the way a person might: lower case, without the dash.
            let linked = try await browser.post("/link", ["code": code.lowercased().replacingOccurrences(of: "-", with: "")])
            #expect(linked.status == .seeOther, "\(linked.text)")
            #expect(linked.location == "/link")
            let done = try await browser.get("/link")
            #expect(done.text.contains("Your Slack account Alice (T1/U2) is now linked"), "\(done.text)")

            let resolved = try await Self.resolve(client, key)
            #expect(resolved.status == .ok, "\(resolved.text)")
            let user = try #require(try resolved.json["user"] as? [String: Any])
            #expect(user["id"] as? String == alice.id)
            #expect(user["email"] as? String == "alice@example.com")
            let identity = try #require(try resolved.json["identity"] as? [String: Any])
            #expect(identity["provider"] as? String == "slack")
            #expect(identity["subject"] as? String == "T1/U2")
            let stored = try #require(
                try await IdentityRepository(database: fixture.runtime.database).identity(
                    provider: "slack",
                    subject: "T1/U2",
                    tenantID: fixture.tenantID
                )
            )
            #expect(stored.method == .app && stored.strength == .weak && stored.appID == appID && stored.userID == alice.id)
            #expect(stored.lastUsedAt != nil)

            // The same code cannot be used twice.
            let again = try await browser.post("/link", ["code": code])
            #expect(again.status == .badRequest)
            #expect(again.text.contains("That code was already used"))
            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "identity.link_code" && $0.actor == "app:\(appID)" })
            let link = try #require(events.first { $0.action == "identity.link" && $0.result == "success" })
            #expect(link.actor == "user:\(alice.id)")
            #expect(link.details["provider"] == "slack" && link.details["subject"] == "T1/U2")
            #expect(events.contains { $0.action == "identity.resolve" && $0.target == alice.id })
            // Nothing of the code is stored or audited in clear.
            #expect(!events.contains { event in event.details.values.contains { $0.contains(code) } })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func whatAnAppSaysIsCheckedFieldByField(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (_, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            let admin = try await client.execute(
                uri: "/api/v1/identities/resolve",
                method: .post,
                headers: fixture.headers,
                body: try body(Self.slack)
            )
            #expect(admin.status == .forbidden)
            for (object, field) in [
                (["provider": "Slack", "subject": "T1/U2"], "provider"),
                (["provider": "password", "subject": "usr_1"], "provider"),
                (["provider": "slack", "subject": String(repeating: "u", count: 201)], "subject"),
                (["provider": "slack", "subject": "T1\nU2"], "subject"),
                (["subject": "T1/U2"], "provider"),
                (["provider": "slack", "subject": "T1/U2", "displayName": ""], "displayName"),
            ] as [([String: Any], String)] {
                let response = try await Self.resolve(client, key, object)
                #expect(response.status == .badRequest, "\(object)")
                let error = try #require(try response.json["error"] as? [String: Any])
                let fields = try #require(error["fields"] as? [[String: Any]])
                #expect(fields.map { $0["path"] as? String } == [field], "\(object)")
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func expiredWrongAndTakenCodesAreRefusedInWords(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let (_, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            let first = try Self.code(of: try await Self.resolve(client, key))
            let (_, browser) = try await Self.alice(client, fixture)
            clock.advance(by: 10 * 60 + 1)
            let expired = try await browser.post("/link", ["code": first])
            #expect(expired.status == .badRequest)
            #expect(expired.text.contains("That code has expired"))
            #expect(expired.text.contains(#"aria-invalid="true""#))
            let malformed = try await browser.post("/link", ["code": "12-ABC"])
            #expect(malformed.status == .badRequest)
            #expect(malformed.text.contains("three letters, a dash and three digits"))

            // Two live codes for one Slack account: Bob links with one, and Alice's is refused in words.
            let second = try Self.code(of: try await Self.resolve(client, key))
            let third = try Self.code(of: try await Self.resolve(client, key))
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            let bobBrowser = WebBrowser(client)
            _ = try await bobBrowser.signIn(email: bob.email, password: "correct-horse-battery")
            _ = try await bobBrowser.get("/link")
            #expect(try await bobBrowser.post("/link", ["code": second]).status == .seeOther)
            let refused = try await browser.post("/link", ["code": third])
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("already linked to another person"))
            let taken = try await IdentityRepository(database: fixture.runtime.database).identity(
                provider: "slack",
                subject: "T1/U2",
                tenantID: fixture.tenantID
            )
            #expect(taken?.userID == bob.id)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func guessingIsLimitedPerCodeAndPerPerson(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (_, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            let code = try Self.code(of: try await Self.resolve(client, key))
            let (_, browser) = try await Self.alice(client, fixture)
            let letters = code.prefix(3)
            let digits = Int(code.suffix(3))!
            // Five wrong digits for the code's letters use that code up.
            for guess in 1...5 {
                let wrong = String(format: "%@-%03d", String(letters), (digits + guess) % 1000)
                let page = try await browser.post("/link", ["code": wrong])
                #expect(page.status == .badRequest)
                #expect(page.text.contains(guess == 5 ? "used up after too many wrong tries" : "That code is not right"), "\(guess)")
            }
            // And five wrong codes make Alice wait, even with a right one.
            let fresh = try Self.code(of: try await Self.resolve(client, key))
            let waiting = try await browser.post("/link", ["code": fresh])
            #expect(waiting.status == .tooManyRequests)
            #expect(waiting.text.contains("Too many wrong codes. Wait 15 minutes"))
            #expect(
                try await IdentityRepository(database: fixture.runtime.database).identity(
                    provider: "slack",
                    subject: "T1/U2",
                    tenantID: fixture.tenantID
                ) == nil
            )
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func guessingSpreadOverCodesAndPeopleIsLimitedPerAccount(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (_, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            // Three live codes for Slack T1/U2, and three people guessing, each below their own limit of five.
            var codes: [String] = []
            for _ in 0..<3 { codes.append(try Self.code(of: try await Self.resolve(client, key))) }
            func wrong(_ code: String, _ n: Int) -> String {
                String(format: "%@-%03d", String(code.prefix(3)), (Int(code.suffix(3))! + n) % 1000)
            }
            var guessers: [WebBrowser] = []
            for name in ["mallory", "trudy", "eve"] {
                try await TestUsers.create(fixture, email: "\(name)@example.com")
                let browser = WebBrowser(client)
                _ = try await browser.signIn(email: "\(name)@example.com", password: "correct-horse-battery")
                _ = try await browser.get("/link")
                guessers.append(browser)
            }
            for (index, count) in [(0, 4), (1, 4), (2, 1)] {
                for n in 1...count {
                    let page = try await guessers[index].post("/link", ["code": wrong(codes[index], n)])
                    #expect(page.text.contains("That code is not right"), "\(index) \(n)")
                }
            }
            // The tenth wrong guess against the account's codes uses all of them up, though none took five.
            let tenth = try await guessers[2].post("/link", ["code": wrong(codes[2], 2)])
            #expect(tenth.text.contains("used up after too many wrong tries"))
            let (_, alice) = try await Self.alice(client, fixture)
            for code in codes {
                let page = try await alice.post("/link", ["code": code])
                #expect(page.status == .badRequest && page.text.contains("That code was already used"), "\(code)")
            }
            // A newer code still works when typed right, and dies at its first wrong guess while the budget is spent.
            let fresh = try Self.code(of: try await Self.resolve(client, key))
            #expect(try await guessers[0].post("/link", ["code": wrong(fresh, 1)]).text.contains("used up after too many wrong tries"))
            let newest = try Self.code(of: try await Self.resolve(client, key))
            // A post without the page's CSRF token (another site's form) never reaches the code.
            #expect(try await alice.post("/link", ["code": newest], csrf: false).status == .forbidden)
            #expect(try await alice.post("/link", ["code": newest]).status == .seeOther)
            #expect(
                try await IdentityRepository(database: fixture.runtime.database).identity(
                    provider: "slack",
                    subject: "T1/U2",
                    tenantID: fixture.tenantID
                ) != nil
            )
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aWeakSessionCannotLinkAndAStrangerIsSentToSignIn(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (_, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            let code = try Self.code(of: try await Self.resolve(client, key))
            let stranger = try await WebBrowser(client).get("/link?code=\(code)")
            #expect(stranger.status == .seeOther)
            #expect(stranger.location == "/login?next=/link?code%3D\(code)")
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let sessions = WebSessions(store: fixture.runtime.webSessionStore, keyring: fixture.runtime.keyring, clock: fixture.runtime.clock)
            let token = try await sessions.create(user: alice, method: .app, ip: nil, userAgent: nil)
            let weak = WebBrowser(client)
            await weak.setCookie("latchkey_session", token)
            let page = try await weak.get("/link")
            #expect(page.status == .ok)
            #expect(page.text.contains("sign in with your own password"))
            let post = try await weak.post("/link", ["code": code])
            #expect(post.status == .seeOther)
            #expect(post.location?.hasPrefix("/login?next=") == true)
            #expect(
                try await IdentityRepository(database: fixture.runtime.database).identity(
                    provider: "slack",
                    subject: "T1/U2",
                    tenantID: fixture.tenantID
                ) == nil
            )
        }
    }
}
