import Foundation
import HTTPTypes
import HummingbirdBcrypt
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// What every way of signing in stands on: identities per person, sign-in per tenant, STRONG and WEAK sessions.
@Suite("Identities and sign-in per tenant")
struct IdentityFoundationTests {
    @Test(arguments: TestDatabases.kinds)
    func eachTenantSignsInOnItsOwnPage(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let acme = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme Corp", actor: .cli)
            let carol = try await fixture.runtime.tenants.createUser(
                tenantID: acme.id,
                email: "carol@acme.example",
                displayName: "Carol",
                passwordHash: Bcrypt.hash("correct-horse-battery", cost: 4),
                isAdmin: false,
                actor: .cli
            )
            let browser = WebBrowser(client)
            let own = try await browser.get("/login")
            #expect(own.text.contains(#"<h1 id="heading">Sign in</h1>"#))
            #expect(!own.text.contains(#"name="tenant""#))
            let page = try await browser.get("/login?tenant=acme")
            #expect(page.text.contains("Sign in to Acme Corp"))
            #expect(page.text.contains(#"name="tenant" value="acme""#))
            // The default tenant's page does not know Carol.
            let wrong = try await browser.post("/login", ["email": "carol@acme.example", "password": "correct-horse-battery"])
            #expect(wrong.status == .unauthorized)
            let signedIn = try await browser.post(
                "/login",
                ["email": "carol@acme.example", "password": "correct-horse-battery", "tenant": "acme", "next": "/connections"]
            )
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/connections")
            #expect(try await browser.get("/connections").status == .ok)
            let events = try await fixture.runtime.audit.repository.page(tenantID: acme.id, afterSeq: nil, limit: 50)
            let signIn = try #require(events.last { $0.action == "user.sign_in" })
            #expect(signIn.target == carol.id)
            #expect(signIn.result == "success")
            #expect(signIn.details["method"] == "password")
            // An unknown organization is a clear 404, not the default tenant's page.
            let unknown = try await WebBrowser(client).get("/login?tenant=nobody")
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("no sign-in page for that organization"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPasswordIsAnIdentityAndTheLastStrongOneStays(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { _, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let identities = IdentityRepository(database: fixture.runtime.database)
            let found = try await identities.identities(userID: alice.id, tenantID: fixture.tenantID)
            #expect(found.map(\.method) == [.password])
            let password = try #require(found.first)
            await #expect(throws: LatchkeyError.self) {
                _ = try await identities.delete(id: password.id, userID: alice.id, tenantID: fixture.tenantID)
            }
            // A WEAK identity does not count as a way to sign in.
            let slack = Identity(
                id: NewID.make(),
                tenantID: fixture.tenantID,
                userID: alice.id,
                method: .app,
                provider: "slack",
                subject: "T1/U1",
                createdAt: Date()
            )
            try await identities.insert(slack)
            await #expect(throws: LatchkeyError.self) {
                _ = try await identities.delete(id: password.id, userID: alice.id, tenantID: fixture.tenantID)
            }
            // The same subject cannot belong to a second person.
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            var taken = slack
            taken.id = NewID.make()
            taken.userID = bob.id
            let conflict = await #expect(throws: LatchkeyError.self) { try await identities.insert(taken) }
            #expect(conflict?.message.contains("another person") == true)
            var passkey = slack
            passkey.id = NewID.make()
            passkey.method = .passkey
            passkey.provider = "passkey"
            passkey.subject = "credential-1"
            passkey.createdAt = slack.createdAt.addingTimeInterval(60)
            try await identities.insert(passkey)
            let removed = try await identities.delete(id: password.id, userID: alice.id, tenantID: fixture.tenantID)
            #expect(removed.method == .password)
            #expect(try await identities.identities(userID: alice.id, tenantID: fixture.tenantID).map(\.method) == [.app, .passkey])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aWeakSessionReadsButSignsInFullyBeforeChangingAnything(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            try await TestIntegrations.sandbox(fixture)
            let sessions = WebSessions(store: fixture.runtime.webSessionStore, keyring: fixture.runtime.keyring, clock: fixture.runtime.clock)
            let token = try await sessions.create(user: alice, method: .app, ip: nil, userAgent: nil)
            #expect(try await sessions.find(token)?.strength == .weak)
            let browser = WebBrowser(client)
            await browser.setCookie("latchkey_session", token)
            let center = try await browser.get("/connections")
            #expect(center.status == .ok)
            await browser.setHeader("Referer", "http://localhost/connections")
            let connect = try await browser.post("/connections/sandbox/connect")
            #expect(connect.status == .seeOther)
            #expect(connect.location == "/login?next=/connections")
            let login = try await browser.get("/login?next=/connections")
            #expect(login.status == .ok)
            #expect(login.text.contains("sign in with your own password"))
            // Signing in fully replaces the WEAK session with a STRONG one.
            let strong = try await browser.post(
                "/login",
                ["email": "alice@example.com", "password": "correct-horse-battery", "next": "/connections"]
            )
            #expect(strong.status == .seeOther)
            #expect(try await sessions.find(token) == nil)
            let cookie = try #require(strong.headers[values: .setCookie].first { $0.hasPrefix("latchkey_session=") })
            let value = String(cookie.dropFirst("latchkey_session=".count).prefix { $0 != ";" })
            #expect(try await sessions.find(value)?.strength == .strong)
        }
    }
}
