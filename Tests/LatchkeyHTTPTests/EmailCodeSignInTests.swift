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
import Testing

/// Sign-in with a one-time code sent by email, through a mail server on 127.0.0.1: offered only with SMTP settings,
/// the same answer with or without an account, single use, 5 wrong guesses, limited sending, never in logs or audit.
@Suite("Email code sign-in")
struct EmailCodeSignInTests {
    static func withMail<T: Sendable>(
        _ kind: TestDatabases.Kind,
        clock: TestClock = TestClock(),
        _ body: @Sendable (any TestClientProtocol, TestFixture, FakeSMTPServer) async throws -> T
    ) async throws -> T {
        try await FakeSMTPServer.run { smtp in
            try await TestApp.with(
                kind,
                clock: clock,
                configure: { $0.smtp = SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "latchkey@example.com") }
            ) {
                client,
                fixture in
                try await body(client, fixture, smtp)
            }
        }
    }

    /// Asks for a code for `email` in `browser`; returns the code page.
    static func ask(_ browser: WebBrowser, _ email: String) async throws -> WebBrowser.Page {
        _ = try await browser.get("/login/email")
        let sent = try await browser.post("/login/email", ["email": email, "next": "/connections"])
        #expect(sent.status == .seeOther)
        #expect(sent.location == "/login/email/code?sent=1")
        return try await browser.get(try #require(sent.location))
    }

    static func code(in message: FakeSMTPServer.Message) throws -> String {
        let range = try #require(message.body.range(of: #"\b[0-9]{6}\b"#, options: .regularExpression))
        return String(message.body[range])
    }

    @Test(arguments: TestDatabases.kinds)
    func aCodeFromTheMailSignsInOnce(kind: TestDatabases.Kind) async throws {
        try await Self.withMail(kind) { client, fixture, smtp in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            let login = try await browser.get("/login")
            #expect(login.text.contains(#"<a id="email-code" href="/login/email">Email me a sign-in code</a>"#))
            let page = try await Self.ask(browser, "Alice@Example.com")
            #expect(page.text.contains("If there is an account for that address, we sent a code to it."))
            #expect(page.text.contains(#"value="alice@example.com""#))
            let message = await smtp.nextMessage()
            #expect(message.recipients == ["alice@example.com"])
            #expect(message.body.contains("It works once, for 10 minutes."))
            let code = try Self.code(in: message)
            let signedIn = try await browser.post("/login/email/code", ["email": "alice@example.com", "code": code, "next": "/connections"])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/connections")
            #expect(try await browser.get("/connections").status == .ok)
            // The address became one of Alice's identities.
            let identities = try await IdentityRepository(database: fixture.runtime.database).identities(userID: alice.id, tenantID: fixture.tenantID)
            let email = try #require(identities.first { $0.method == .email })
            #expect(email.provider == "email" && email.subject == "alice@example.com" && email.lastUsedAt != nil)
            // Used once, it works no more.
            let again = try await WebBrowser(client).post("/login/email/code", ["email": "alice@example.com", "code": code], csrf: false)
            #expect(again.status == .forbidden)
            let other = WebBrowser(client)
            _ = try await other.get("/login/email/code")
            let replay = try await other.post("/login/email/code", ["email": "alice@example.com", "code": code])
            #expect(replay.status == .unauthorized)
            #expect(replay.text.contains("There is no code for that address that still works"))
            // Audited, never with the code; the code is in no log line either.
            let events = try await fixture.auditEvents()
            let sentEvent = try #require(events.first { $0.action == "user.sign_in_code_sent" })
            #expect(sentEvent.target == alice.id)
            let signIn = try #require(events.last { $0.action == "user.sign_in" && $0.result == "success" })
            #expect(signIn.details["method"] == "email" && signIn.details["provider"] == "email")
            #expect(events.contains { $0.action == "user.sign_in" && $0.result == "failure" && $0.details["reason"] == "no_valid_code" })
            #expect(!events.contains { event in event.details.values.contains { $0.contains(code) } })
            #expect(!fixture.logs.text.contains(code))
        }
    }

    @Test func theAnswerIsTheSameWithoutAnAccount() async throws {
        try await Self.withMail(.sqlite) { client, fixture, smtp in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let nobody = try await Self.ask(WebBrowser(client), "nobody@example.com")
            let alice = try await Self.ask(WebBrowser(client), "alice@example.com")
            let strip = { (text: String) in
                text.replacingOccurrences(of: #"value="[^"]*""#, with: "", options: .regularExpression)
            }
            #expect(strip(nobody.text) == strip(alice.text))
            // Nothing was sent to the address without an account: the first message is Alice's.
            #expect(await smtp.nextMessage().recipients == ["alice@example.com"])
            #expect(smtp.messages.count == 1)
            // Guessing at an address without an account answers like a wrong code.
            let browser = WebBrowser(client)
            _ = try await browser.get("/login/email/code")
            let guess = try await browser.post("/login/email/code", ["email": "nobody@example.com", "code": "123456"])
            #expect(guess.status == .unauthorized)
            #expect(guess.text.contains("That code is not right. You can try 4 more times with this code."))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func fiveWrongGuessesKillTheCode(kind: TestDatabases.Kind) async throws {
        try await Self.withMail(kind) { client, fixture, smtp in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await Self.ask(browser, "alice@example.com")
            let code = try Self.code(in: await smtp.nextMessage())
            let wrong = code == "000000" ? "111111" : "000000"
            for left in [4, 3, 2, 1] {
                let page = try await browser.post("/login/email/code", ["email": "alice@example.com", "code": wrong])
                #expect(page.status == .unauthorized)
                #expect(page.text.contains(left == 1 ? "try once more" : "try \(left) more times"))
            }
            let last = try await browser.post("/login/email/code", ["email": "alice@example.com", "code": wrong])
            #expect(last.text.contains("it no longer works after so many tries"))
            let right = try await browser.post("/login/email/code", ["email": "alice@example.com", "code": code])
            #expect(right.status == .unauthorized)
            #expect(right.text.contains("There is no code for that address that still works"))
            #expect(try await browser.get("/connections").status == .seeOther)
        }
    }

    @Test func aCodeExpiresAfterTenMinutes() async throws {
        let clock = TestClock()
        try await Self.withMail(.sqlite, clock: clock) { client, fixture, smtp in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await Self.ask(browser, "alice@example.com")
            let code = try Self.code(in: await smtp.nextMessage())
            clock.advance(by: 601)
            let late = try await browser.post("/login/email/code", ["email": "alice@example.com", "code": code])
            #expect(late.status == .unauthorized)
            #expect(late.text.contains("There is no code for that address that still works"))
        }
    }

    @Test func sendingIsLimitedPerAddress() async throws {
        let clock = TestClock()
        try await Self.withMail(.sqlite, clock: clock) { client, fixture, smtp in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            for _ in 0..<5 { _ = try await Self.ask(browser, "alice@example.com") }
            _ = try await browser.get("/login/email")
            let limited = try await browser.post("/login/email", ["email": "alice@example.com"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.text.contains("Too many codes were asked for that address or from your network. Try again in 15 minutes."))
            #expect(limited.headers[.retryAfter] == "900")
            for _ in 0..<5 { _ = await smtp.nextMessage() }
            clock.advance(by: 901)
            _ = try await Self.ask(browser, "alice@example.com")
            #expect(await smtp.nextMessage().recipients == ["alice@example.com"])
            #expect(smtp.messages.count == 6)
        }
    }

    @Test func sendingIsLimitedPerClientAddressAcrossAddresses() async throws {
        try await Self.withMail(.sqlite) { client, _, _ in
            let browser = WebBrowser(client)
            for index in 0..<10 { _ = try await Self.ask(browser, "person\(index)@example.com") }
            _ = try await browser.get("/login/email")
            let limited = try await browser.post("/login/email", ["email": "person10@example.com"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.text.contains("Too many codes were asked for that address or from your network."))
        }
    }

    @Test func aMistypedAddressIsAFormError() async throws {
        try await Self.withMail(.sqlite) { client, _, _ in
            let browser = WebBrowser(client)
            _ = try await browser.get("/login/email")
            let page = try await browser.post("/login/email", ["email": "alice at example"])
            #expect(page.status == .badRequest)
            #expect(page.text.contains(#"aria-describedby="email-error""#))
            #expect(page.text.contains("Enter an email address such as alice@example.com."))
        }
    }

    @Test func mailServerSettingsAreReadFromTheEnvironmentAndCheckedAtStart() throws {
        var configuration = ServerConfiguration()
        try configuration.applyEnvironment([
            "LATCHKEY_SMTP_HOST": "smtp.example.com", "LATCHKEY_SMTP_USERNAME": "mailer", "LATCHKEY_SMTP_PASSWORD": "s3cret",
            "LATCHKEY_SMTP_FROM": "latchkey@example.com",
        ])
        let smtp = try #require(configuration.smtp)
        #expect(smtp.host == "smtp.example.com" && smtp.port == 587 && smtp.security == .required && smtp.password == "s3cret")
        #expect(!"\(smtp)".contains("s3cret"))
        var plain = ServerConfiguration()
        let refused = #expect(throws: ConfigurationError.self) {
            try plain.applyEnvironment([
                "LATCHKEY_SMTP_HOST": "smtp.example.com", "LATCHKEY_SMTP_STARTTLS": "off", "LATCHKEY_SMTP_USERNAME": "mailer",
                "LATCHKEY_SMTP_PASSWORD": "s3cret", "LATCHKEY_SMTP_FROM": "latchkey@example.com",
            ])
        }
        #expect(
            refused?.description
                == "The SMTP password would be sent in plain text to smtp.example.com. Require STARTTLS, or use a relay on this machine."
        )
        let noSender = #expect(throws: ConfigurationError.self) { try plain.applyEnvironment(["LATCHKEY_SMTP_HOST": "127.0.0.1"]) }
        #expect(noSender?.description.contains("LATCHKEY_SMTP_FROM is needed") == true)
        let badMode = #expect(throws: ConfigurationError.self) {
            try plain.applyEnvironment(["LATCHKEY_SMTP_HOST": "127.0.0.1", "LATCHKEY_SMTP_STARTTLS": "maybe", "LATCHKEY_SMTP_FROM": "a@example.com"])
        }
        #expect(badMode?.description == "LATCHKEY_SMTP_STARTTLS must be required or off, got maybe")
        var none = ServerConfiguration()
        try none.applyEnvironment([:])
        #expect(none.smtp == nil)
    }

    @Test func withoutAMailServerNoCodeIsOffered() async throws {
        try await TestApp.with(.sqlite) { client, _ in
            let browser = WebBrowser(client)
            let login = try await browser.get("/login")
            #expect(login.status == .ok)
            #expect(!login.text.contains("Email me a sign-in code"))
            #expect(try await browser.get("/login/email").status == .notFound)
        }
    }
}
