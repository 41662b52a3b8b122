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

/// Users are unique per tenant: one address may be a person in two organizations, each signing in on its own page —
/// with a password and with an emailed code — as the person of that organization only.
@Suite("Sign-in methods per tenant")
struct TenantSignInMethodsTests {
    @Test(arguments: TestDatabases.kinds)
    func oneAddressIsTwoPeopleInTwoTenantsWithPasswordsAndEmailCodes(kind: TestDatabases.Kind) async throws {
        try await EmailCodeSignInTests.withMail(kind) { client, fixture, smtp in
            let acme = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme Corp", actor: .cli)
            let home = try await TestUsers.create(fixture, email: "alice@example.com")
            let atAcme = try await fixture.runtime.tenants.createUser(
                tenantID: acme.id,
                email: "alice@example.com",
                displayName: "Alice at Acme",
                passwordHash: Bcrypt.hash("acme-password-1", cost: 4),
                isAdmin: false,
                actor: .cli
            )
            #expect(atAcme.id != home.id)
            let acmeEvents = { try await fixture.runtime.audit.repository.page(tenantID: acme.id, afterSeq: nil, limit: 100) }

            // Each password belongs to its own organization's page.
            let crossed = WebBrowser(client)
            _ = try await crossed.get("/login?tenant=acme")
            let wrong = try await crossed.post("/login", ["email": "alice@example.com", "password": "correct-horse-battery", "tenant": "acme"])
            #expect(wrong.status == .unauthorized)
            let right = try await crossed.post("/login", ["email": "alice@example.com", "password": "acme-password-1", "tenant": "acme"])
            #expect(right.status == .seeOther)
            #expect(try await acmeEvents().last { $0.action == "user.sign_in" && $0.result == "success" }?.target == atAcme.id)

            // An emailed code asked for on Acme's page signs in Acme's Alice, and not on the default tenant's page.
            let browser = WebBrowser(client)
            let login = try await browser.get("/login?tenant=acme")
            #expect(login.text.contains(#"href="/login/email?tenant=acme""#))
            _ = try await browser.get("/login/email?tenant=acme")
            let sent = try await browser.post("/login/email", ["email": "alice@example.com", "tenant": "acme"])
            #expect(sent.location == "/login/email/code?tenant=acme&sent=1")
            let message = await smtp.nextMessage()
            #expect(message.recipients == ["alice@example.com"])
            let code = try EmailCodeSignInTests.code(in: message)
            let elsewhere = WebBrowser(client)
            _ = try await elsewhere.get("/login/email/code")
            let refused = try await elsewhere.post("/login/email/code", ["email": "alice@example.com", "code": code])
            #expect(refused.status == .unauthorized)
            _ = try await browser.get(try #require(sent.location))
            let signedIn = try await browser.post("/login/email/code", ["email": "alice@example.com", "code": code, "tenant": "acme"])
            #expect(signedIn.status == .seeOther, "\(signedIn.text)")
            let event = try #require(try await acmeEvents().last { $0.action == "user.sign_in" && $0.result == "success" })
            #expect(event.target == atAcme.id && event.details["method"] == "email")
            let identities = IdentityRepository(database: fixture.runtime.database)
            #expect(try await identities.identities(userID: atAcme.id, tenantID: acme.id).contains { $0.method == .email })
            #expect(try await identities.identities(userID: home.id, tenantID: fixture.tenantID).map(\.method) == [.password])
        }
    }
}
