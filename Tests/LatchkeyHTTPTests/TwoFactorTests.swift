import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyIdentity
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// The TOTP second factor: enrolment in Settings with a current code, password sign-in that waits for the code
/// (bound to the browser, 5 wrong codes, no code twice), turning it off with a current code.
@Suite("Two-factor sign-in")
struct TwoFactorTests {
    /// Turns two-factor sign-in on for the signed-in person of `browser`; returns the TOTP of the secret the page showed.
    static func enrol(_ browser: WebBrowser, clock: TestClock) async throws -> TOTP {
        let page = try await browser.get("/settings/two-factor")
        #expect(page.status == .ok)
        #expect(page.text.contains("Two-factor sign-in is <strong>off</strong>"))
        // What it guards, said before it is turned on: the password, not the ways that stand in for it.
        #expect(page.text.contains("It guards your password only: a passkey, single sign-on or a code sent to your email address"))
        let shown = try #require(page.shownOnce("totp-secret", pattern: "[A-Z2-7 ]+"))
        let totp = TOTP(secret: try #require(Base32.decode(shown)))
        #expect(page.text.contains("otpauth://totp/Latchkey%3Aalice@example.com?secret=\(Base32.encode(totp.secret))"))
        // Reloading shows the same secret until it is confirmed.
        #expect(try await browser.get("/settings/two-factor").shownOnce("totp-secret", pattern: "[A-Z2-7 ]+") == shown)
        let now = totp.step(at: clock.now)
        let wrong = try await browser.post("/settings/two-factor/enable", ["code": totp.code(step: now + 3)])
        #expect(wrong.status == .badRequest)
        #expect(wrong.text.contains("That code is not right."))
        let on = try await browser.post("/settings/two-factor/enable", ["code": totp.code(at: clock.now)])
        #expect(on.status == .seeOther)
        #expect(try await browser.get("/settings/two-factor").text.contains("Two-factor sign-in is <strong>on</strong>"))
        return totp
    }

    @Test(arguments: TestDatabases.kinds)
    func aPasswordSignInWaitsForTheCode(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let setup = WebBrowser(client)
            _ = try await setup.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let totp = try await Self.enrol(setup, clock: clock)
            // The secret is sealed at rest.
            let stored = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT secret FROM totp_secrets").first()?.decode(column: "secret", as: Data.self)
            }
            #expect(stored != nil && stored.map { !$0.contains(Data(totp.secret)) } == true)

            let browser = WebBrowser(client)
            _ = try await browser.get("/login")
            let password = try await browser.post("/login", ["email": "alice@example.com", "password": "correct-horse-battery", "next": "/apps"])
            #expect(password.status == .seeOther)
            #expect(password.location == "/login/two-factor")
            // No session yet.
            #expect(try await browser.get("/connections").status == .seeOther)
            let page = try await browser.get("/login/two-factor")
            #expect(page.text.contains("Enter your authenticator code"))
            // The code used to turn it on is not accepted a second time.
            let replay = try await browser.post("/login/two-factor", ["code": totp.code(at: clock.now)])
            #expect(replay.status == .unauthorized)
            #expect(replay.text.contains("4 tries left"))
            // The waiting sign-in belongs to this browser only.
            let thief = WebBrowser(client)
            await thief.setCookie(TwoFactorCookie.name, try #require(await browser.cookies[TwoFactorCookie.name]))
            _ = try await thief.get("/login")
            clock.advance(by: 30)
            #expect(try await thief.post("/login/two-factor", ["code": totp.code(at: clock.now)]).status == .badRequest)
            let signedIn = try await browser.post("/login/two-factor", ["code": totp.code(at: clock.now)])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/apps")
            #expect(try await browser.get("/connections").status == .ok)
            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "user.two_factor_enabled" && $0.target == alice.id })
            #expect(events.contains { $0.action == "user.sign_in" && $0.result == "failure" && $0.details["reason"] == "wrong_second_factor" })
            #expect(events.last { $0.action == "user.sign_in" }?.details["method"] == "password")
            #expect(events.last { $0.action == "user.sign_in" }?.result == "success")
        }
    }

    @Test func fiveWrongCodesEndTheSignIn() async throws {
        let clock = TestClock()
        try await TestApp.with(.sqlite, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let setup = WebBrowser(client)
            _ = try await setup.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let totp = try await Self.enrol(setup, clock: clock)
            clock.advance(by: 30)
            let browser = WebBrowser(client)
            let password = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            #expect(password.location == "/login/two-factor")
            let wrong = totp.code(step: totp.step(at: clock.now) + 5)
            for _ in 0..<4 { #expect(try await browser.post("/login/two-factor", ["code": wrong]).status == .unauthorized) }
            let last = try await browser.post("/login/two-factor", ["code": wrong])
            #expect(last.status == .badRequest)
            #expect(last.text.contains("this sign-in ends after so many tries"))
            let late = try await browser.post("/login/two-factor", ["code": totp.code(at: clock.now)])
            #expect(late.status == .badRequest)
            #expect(try await browser.get("/connections").status == .seeOther)
        }
    }

    @Test func theWaitingSignInEndsAfterFiveMinutes() async throws {
        let clock = TestClock()
        try await TestApp.with(.sqlite, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let setup = WebBrowser(client)
            _ = try await setup.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let totp = try await Self.enrol(setup, clock: clock)
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            clock.advance(by: 301)
            let late = try await browser.post("/login/two-factor", ["code": totp.code(at: clock.now)])
            #expect(late.status == .badRequest)
            #expect(late.text.contains("This sign-in has ended"))
        }
    }

    @Test func turningItOffTakesACurrentCode() async throws {
        let clock = TestClock()
        try await TestApp.with(.sqlite, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let totp = try await Self.enrol(browser, clock: clock)
            clock.advance(by: 30)
            let wrong = try await browser.post("/settings/two-factor/disable", ["code": totp.code(step: totp.step(at: clock.now) - 4)])
            #expect(wrong.status == .badRequest)
            let off = try await browser.post("/settings/two-factor/disable", ["code": totp.code(at: clock.now)])
            #expect(off.status == .seeOther)
            #expect(try await browser.get("/settings/two-factor").text.contains("Two-factor sign-in is off."))
            let again = WebBrowser(client)
            let signedIn = try await again.signIn(email: "alice@example.com", password: "correct-horse-battery")
            #expect(signedIn.location == "/connections")
            #expect(try await fixture.auditEvents().contains { $0.action == "user.two_factor_disabled" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func guessingTheCodeToTurnItOffMakesThePersonWait(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let totp = try await Self.enrol(browser, clock: clock)
            clock.advance(by: 30)
            // The wrong code of the enrolment counts too: four more make five.
            for _ in 0..<3 {
                let wrong = try await browser.post("/settings/two-factor/disable", ["code": totp.code(step: totp.step(at: clock.now) + 5)])
                #expect(wrong.status == .badRequest)
            }
            let fifth = try await browser.post("/settings/two-factor/disable", ["code": totp.code(step: totp.step(at: clock.now) + 5)])
            #expect(fifth.status == .tooManyRequests)
            #expect(fifth.headers[.retryAfter] == "900")
            // Even the right code waits now.
            let right = try await browser.post("/settings/two-factor/disable", ["code": totp.code(at: clock.now)])
            #expect(right.status == .tooManyRequests)
            #expect(right.text.contains("Too many wrong codes"))
            clock.advance(by: 15 * 60 + 1)
            let off = try await browser.post("/settings/two-factor/disable", ["code": totp.code(at: clock.now)])
            #expect(off.status == .seeOther)
        }
    }
}

/// The cookie name, as the browser sees it.
enum TwoFactorCookie {
    static let name = "latchkey_two_factor"
}
