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

/// Sign-in pages per tenant, for someone already signed in.
@Suite("Sign-in per tenant")
struct TenantSignInTests {
    @Test(arguments: TestDatabases.kinds)
    func anotherOrganizationsSignInPageSaysWhoIsSignedInInsteadOfSendingThemOn(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let acme = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme Corp", actor: .cli)
            _ = try await fixture.runtime.tenants.createUser(
                tenantID: acme.id,
                email: "carol@acme.example",
                displayName: "Carol",
                passwordHash: Bcrypt.hash("correct-horse-battery", cost: 4),
                isAdmin: false,
                actor: .cli
            )
            try await TestUsers.create(fixture, email: "alice@example.com")
            let alice = WebBrowser(client)
            _ = try await alice.signIn(email: "alice@example.com", password: "correct-horse-battery")
            // Her own organization's page sends her on, as before.
            let own = try await alice.get("/login?next=/settings")
            #expect(own.status == .seeOther && own.location == "/settings")
            let other = try await alice.get("/login?tenant=acme&next=/connections")
            #expect(other.status == .ok)
            #expect(other.text.contains("You are signed in to another organization"))
            #expect(other.text.contains("the sign-in page of <strong>Acme Corp</strong>"))
            #expect(other.text.contains("<strong>alice@example.com</strong>"))
            #expect(other.text.contains("<code>/login?tenant=acme</code>") && other.text.contains(#"id="sign-out-first""#))
            // Signing out there leaves the browser free to sign in to Acme.
            #expect(try await alice.post("/logout").location == "/login")
            let signIn = try await alice.get("/login?tenant=acme")
            #expect(signIn.text.contains("Sign in to Acme Corp"))

            let carol = WebBrowser(client)
            _ = try await carol.get("/login?tenant=acme")
            _ = try await carol.post("/login", ["email": "carol@acme.example", "password": "correct-horse-battery", "tenant": "acme"])
            let defaultPage = try await carol.get("/login")
            #expect(defaultPage.text.contains("this browser is signed in to <strong>Acme Corp</strong> as <strong>carol@acme.example</strong>"))
        }
    }
}
