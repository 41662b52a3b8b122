import Foundation
import HTTPTypes
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Settings › Linked accounts: every way a person signs in, the primary one marked, unlink — never the last STRONG one.
@Suite("Linked accounts")
struct IdentitiesSettingsTests {
    static func identity(_ user: User, _ method: SignInMethod, provider: String, subject: String, name: String?, appID: String? = nil) -> Identity {
        var identity = Identity(
            id: NewID.make(),
            tenantID: user.tenantID,
            userID: user.id,
            method: method,
            provider: provider,
            subject: subject,
            createdAt: Date(timeIntervalSince1970: 1_900_000_000)
        )
        identity.displayName = name
        identity.appID = appID
        return identity
    }

    @Test(arguments: TestDatabases.kinds)
    func theListShowsEveryWayWithThePrimaryAndTheAppThatVouches(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let identities = IdentityRepository(database: fixture.runtime.database)
            let app = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            try await identities.insert(Self.identity(alice, .app, provider: "slack", subject: "T1/U2", name: "alice (Slack)", appID: app.id))
            try await identities.insert(Self.identity(alice, .passkey, provider: "passkey", subject: "Y3JlZGVudGlhbC0x", name: "MacBook"))
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let page = try await browser.get("/settings/identities")
            #expect(page.status == .ok)
            let rows = page.text.components(separatedBy: #"<tr class="identity""#).dropFirst()
            #expect(rows.count == 3)
            let password = try #require(rows.first { $0.contains(">Password") })
            #expect(password.contains("primary") && password.contains("alice@example.com"))
            let passkey = try #require(rows.first { $0.contains(">Passkey") })
            #expect(passkey.contains("MacBook") && !passkey.contains("primary"))
            // Last used: the password just now (this sign-in), the passkey never.
            #expect(passkey.contains(#"<td data-label="Last used">never</td>"#))
            #expect(!password.contains(#"<td data-label="Last used">never</td>"#) && password.contains(#"<td data-label="Last used">"#))
            let slack = try #require(rows.first { $0.contains("App account") })
            #expect(slack.contains("linked through \(app.name)") && slack.contains("look only"))
            #expect(page.text.contains(#"href="/settings/passkeys""#) && page.text.contains(#"href="/link""#))
            #expect(page.text.contains(#"href="/settings/two-factor""#))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func unlinkingThePasswordRemovesItAndSignsOutItsOtherSessions(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let identities = IdentityRepository(database: fixture.runtime.database)
            try await identities.insert(Self.identity(alice, .passkey, provider: "passkey", subject: "Y3JlZGVudGlhbC0x", name: "MacBook"))
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let other = WebBrowser(client)
            _ = try await other.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let password = "idn_\(alice.id)"
            let confirm = try await browser.get("/settings/identities/\(password)/unlink")
            #expect(confirm.status == .ok && confirm.text.contains("your password is removed") && confirm.text.contains("confirm-unlink"))
            let done = try await browser.post("/settings/identities/\(password)/unlink")
            #expect(done.status == .seeOther && done.location == "/settings/identities")
            #expect(try await browser.get("/settings/identities").text.contains("Password (alice@example.com) is no longer linked to you."))
            #expect(try await identities.identities(userID: alice.id, tenantID: fixture.tenantID).map(\.method) == [.passkey])
            // The other browser signed in with it is signed out; this one stays; the password no longer signs in.
            #expect(try await other.get("/connections").location == "/login?next=/connections")
            #expect(try await browser.get("/connections").status == .ok)
            let again = try await WebBrowser(client).signIn(email: "alice@example.com", password: "correct-horse-battery")
            #expect(again.status == .unauthorized)
            let event = try #require(try await fixture.auditEvents().last { $0.action == "identity.unlink" })
            #expect(event.target == password && event.details["method"] == "password" && event.actor == "user:\(alice.id)")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theLastWayToSignInIsNeverUnlinked(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let password = "idn_\(alice.id)"
            let confirm = try await browser.get("/settings/identities/\(password)/unlink")
            #expect(confirm.text.contains("This is your last way to sign in") && !confirm.text.contains("confirm-unlink"))
            // Posted anyway (an old page, another tab): refused with the reason, nothing removed.
            let refused = try await browser.post("/settings/identities/\(password)/unlink")
            #expect(refused.status == .conflict)
            #expect(refused.text.contains(#"role="alert" id="unlink-error">This is your last way to sign in."#))
            #expect(try await WebBrowser(client).signIn(email: "alice@example.com", password: "correct-horse-battery").status == .seeOther)
            // Someone else's identity is not found.
            #expect(try await browser.get("/settings/identities/idn_\(bob.id)/unlink").status == .notFound)
            #expect(try await browser.post("/settings/identities/idn_\(bob.id)/unlink").status == .notFound)
            #expect(try await fixture.auditEvents().contains { $0.action == "identity.unlink" } == false)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aWeakSessionCannotUnlink(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let identities = IdentityRepository(database: fixture.runtime.database)
            try await identities.insert(Self.identity(alice, .passkey, provider: "passkey", subject: "Y3JlZGVudGlhbC0x", name: "MacBook"))
            let sessions = WebSessions(store: fixture.runtime.webSessionStore, keyring: fixture.runtime.keyring, clock: fixture.runtime.clock)
            let weak = WebBrowser(client)
            await weak.setCookie("latchkey_session", try await sessions.create(user: alice, method: .app, ip: nil, userAgent: nil))
            #expect(try await weak.get("/settings/identities/idn_\(alice.id)/unlink").status == .ok)
            let post = try await weak.post("/settings/identities/idn_\(alice.id)/unlink")
            #expect(post.status == .seeOther && post.location?.hasPrefix("/login?next=") == true)
            #expect(try await identities.identities(userID: alice.id, tenantID: fixture.tenantID).count == 2)
        }
    }
}
