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

/// Passkeys through the routes a browser's script calls, with a software authenticator: added in Settings, signing
/// in from the sign-in page, and every way a response must be refused.
@Suite("Passkeys")
struct PasskeysTests {
    static let publicURL = "https://latchkey.example"

    static func withApp(
        _ kind: TestDatabases.Kind,
        clock: TestClock = TestClock(),
        _ body: @escaping @Sendable (any TestClientProtocol, TestFixture) async throws -> Void
    ) async throws {
        try await TestApp.with(kind, clock: clock, configure: { $0.publicURL = publicURL }, body)
    }

    static func json(_ page: WebBrowser.Page) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(page.text.utf8)) as? [String: Any])
    }

    static func challenge(_ page: WebBrowser.Page) throws -> Data {
        #expect(page.status == .ok)
        let text = try #require(try json(page)["challenge"] as? String)
        return try #require(Data(base64URL: text))
    }

    /// Adds a passkey on Settings → Passkeys as the page's script does.
    static func register(_ browser: WebBrowser, _ authenticator: SoftwareAuthenticator, name: String = "Laptop") async throws -> WebBrowser.Page {
        let settings = try await browser.get("/settings/passkeys")
        #expect(settings.status == .ok)
        // The page's script may run and call back (its policy allows nothing else).
        #expect(settings.headers[.contentSecurityPolicy]?.contains("script-src 'self'; connect-src 'self'") == true)
        let options = try await browser.post("/settings/passkeys/options")
        let (clientData, attestation) = authenticator.register(challenge: try challenge(options))
        return try await browser.post(
            "/settings/passkeys",
            [
                "name": name, "clientDataJSON": clientData.base64URLEncodedString(),
                "attestationObject": attestation.base64URLEncodedString(),
            ]
        )
    }

    /// The fields the sign-in page's script posts for an assertion.
    static func assertion(_ authenticator: inout SoftwareAuthenticator, challenge: Data, origin: String? = nil) throws -> [String: String] {
        let answer = try authenticator.assert(challenge: challenge, origin: origin)
        return [
            "credentialId": authenticator.credentialID.base64URLEncodedString(),
            "clientDataJSON": answer.clientDataJSON.base64URLEncodedString(),
            "authenticatorData": answer.authenticatorData.base64URLEncodedString(),
            "signature": answer.signature.base64URLEncodedString(),
        ]
    }

    /// Signs in with a passkey from the sign-in page of `tenant` (the default tenant when empty).
    static func signIn(
        _ browser: WebBrowser,
        _ authenticator: inout SoftwareAuthenticator,
        tenant: String = "",
        origin: String? = nil
    ) async throws -> WebBrowser.Page {
        let login = try await browser.get(tenant.isEmpty ? "/login" : "/login?tenant=\(tenant)")
        #expect(login.text.contains(#"id="passkey-sign-in""#))
        #expect(login.headers[.contentSecurityPolicy]?.contains("script-src 'self'; connect-src 'self'") == true)
        let options = try await browser.post("/login/passkey/options", ["tenant": tenant])
        var fields = try assertion(&authenticator, challenge: try challenge(options), origin: origin)
        fields["tenant"] = tenant
        fields["next"] = "/connections"
        return try await browser.post("/login/passkey", fields)
    }

    static func passwordBrowser(_ client: any TestClientProtocol, email: String) async throws -> WebBrowser {
        let browser = WebBrowser(client)
        #expect(try await browser.signIn(email: email, password: "correct-horse-battery").status == .seeOther)
        return browser
    }

    @Test(arguments: TestDatabases.kinds)
    func aPasskeyAddedInSettingsSignsIn(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = try await Self.passwordBrowser(client, email: "alice@example.com")
            var authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: Self.publicURL)
            let added = try await Self.register(browser, authenticator, name: "Work laptop")
            #expect(added.status == .ok)
            #expect(try Self.json(added)["location"] as? String == "/settings/passkeys")
            let settings = try await browser.get("/settings/passkeys")
            #expect(settings.text.contains("Passkey “Work laptop” added."))
            #expect(settings.text.contains("<h3>Work laptop</h3>"))
            #expect(settings.text.contains("last used never"))
            let identities = try await IdentityRepository(database: fixture.runtime.database).identities(userID: alice.id, tenantID: fixture.tenantID)
            let passkey = try #require(identities.first { $0.method == .passkey })
            #expect(passkey.subject == authenticator.credentialID.base64URLEncodedString())
            #expect(try await fixture.auditEvents().contains { $0.action == "identity.link" && $0.target == passkey.id })
            // A second registration of the same device is excluded by the options.
            let options = try Self.json(try await browser.post("/settings/passkeys/options"))
            let excluded = try #require(options["excludeCredentials"] as? [[String: Any]])
            #expect(excluded.map { $0["id"] as? String } == [passkey.subject])
            #expect((options["rp"] as? [String: Any])?["id"] as? String == "latchkey.example")

            let fresh = WebBrowser(client)
            let signedIn = try await Self.signIn(fresh, &authenticator)
            #expect(signedIn.status == .ok)
            #expect(try Self.json(signedIn)["location"] as? String == "/connections")
            #expect(try await fresh.get("/connections").status == .ok)
            let event = try #require(try await fixture.auditEvents().last { $0.action == "user.sign_in" })
            #expect(event.target == alice.id && event.result == "success" && event.details["method"] == "passkey")
            #expect(!(try await fresh.get("/settings/passkeys").text.contains("last used never")))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aResponseForAnotherSiteAnOldChallengeOrABackwardCounterIsRefused(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = try await Self.passwordBrowser(client, email: "alice@example.com")
            var authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: Self.publicURL)
            #expect(try await Self.register(browser, authenticator).status == .ok)

            // Another origin (a phishing site relaying the ceremony).
            let visitor = WebBrowser(client)
            let phished = try await Self.signIn(visitor, &authenticator, origin: "https://latchkey.example.evil")
            #expect(phished.status == .unauthorized)
            #expect(try Self.json(phished)["error"] as? String == "The passkey was used on another site (https://latchkey.example.evil).")
            // Another RP ID.
            var elsewhere = authenticator
            elsewhere.rpID = "evil.example"
            let wrongSite = try await Self.signIn(visitor, &elsewhere)
            #expect(wrongSite.status == .unauthorized)
            #expect(try Self.json(wrongSite)["error"] as? String == "The passkey belongs to another site.")
            // A challenge answers once.
            let options = try await visitor.post("/login/passkey/options", ["tenant": ""])
            var fields = try Self.assertion(&authenticator, challenge: try Self.challenge(options))
            fields["next"] = "/connections"
            #expect(try await visitor.post("/login/passkey", fields).status == .ok)
            let replayed = try await WebBrowser(client).signInReplaying(fields)
            #expect(replayed.status == .badRequest)
            #expect(try Self.json(replayed)["error"] as? String == "This sign-in has expired or was already used. Try again.")
            // A counter that does not move forward: a copy of the authenticator.
            var copy = authenticator
            copy.counter -= 1
            let cloned = try await Self.signIn(WebBrowser(client), &copy)
            #expect(cloned.status == .unauthorized)
            #expect((try Self.json(cloned)["error"] as? String)?.contains("may have been copied") == true)
            let refusals = try await fixture.auditEvents().filter { $0.action == "user.sign_in" && $0.result == "failure" }
            #expect(refusals.compactMap { $0.details["reason"] }.contains("possible_cloned_authenticator"))
            #expect(refusals.allSatisfy { $0.details["method"] == "passkey" })
            // The genuine authenticator still signs in.
            #expect(try await Self.signIn(WebBrowser(client), &authenticator).status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPasskeyOfAnotherTenantIsUnknownThere(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture in
            _ = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme Corp", actor: .cli)
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = try await Self.passwordBrowser(client, email: "alice@example.com")
            var authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: Self.publicURL)
            #expect(try await Self.register(browser, authenticator).status == .ok)
            let acme = try await Self.signIn(WebBrowser(client), &authenticator, tenant: "acme")
            #expect(acme.status == .badRequest)
            #expect((try Self.json(acme)["error"] as? String)?.hasPrefix("This passkey is not registered here.") == true)
            // A challenge of the default tenant's page does not sign in on Acme's.
            let visitor = WebBrowser(client)
            _ = try await visitor.get("/login")
            let options = try await visitor.post("/login/passkey/options", ["tenant": ""])
            var fields = try Self.assertion(&authenticator, challenge: try Self.challenge(options))
            fields["tenant"] = "acme"
            #expect(try await visitor.post("/login/passkey", fields).status == .badRequest)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aWeakSessionCannotAddAPasskey(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let sessions = WebSessions(store: fixture.runtime.webSessionStore, keyring: fixture.runtime.keyring, clock: fixture.runtime.clock)
            let token = try await sessions.create(user: alice, method: .app, ip: nil, userAgent: nil)
            let browser = WebBrowser(client)
            await browser.setCookie("latchkey_session", token)
            #expect(try await browser.get("/settings/passkeys").status == .ok)
            let options = try await browser.post("/settings/passkeys/options")
            #expect(options.status == .seeOther)
            #expect(options.location?.hasPrefix("/login?next=") == true)
            let authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: Self.publicURL)
            let (clientData, attestation) = authenticator.register(challenge: Data(repeating: 1, count: 32))
            let added = try await browser.post(
                "/settings/passkeys",
                ["clientDataJSON": clientData.base64URLEncodedString(), "attestationObject": attestation.base64URLEncodedString()]
            )
            #expect(added.status == .seeOther)
            #expect(try await PasskeyRepository(database: fixture.runtime.database).passkeys(userID: alice.id, tenantID: fixture.tenantID).isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPasskeyIsRenamedAndRemovedButNotTheLastWayToSignIn(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = try await Self.passwordBrowser(client, email: "alice@example.com")
            var authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: Self.publicURL)
            #expect(try await Self.register(browser, authenticator).status == .ok)
            let passkeys = PasskeyRepository(database: fixture.runtime.database)
            let passkey = try #require(try await passkeys.passkeys(userID: alice.id, tenantID: fixture.tenantID).first)
            _ = try await browser.get("/settings/passkeys")
            let empty = try await browser.post("/settings/passkeys/\(passkey.identityID)/rename", ["name": " "])
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains("Enter a name for the passkey."))
            #expect(empty.text.contains(#"aria-describedby="rename-\#(passkey.identityID)-error""#))
            let renamed = try await browser.post("/settings/passkeys/\(passkey.identityID)/rename", ["name": "Phone"])
            #expect(renamed.status == .seeOther)
            #expect(try await browser.get("/settings/passkeys").text.contains("<h3>Phone</h3>"))

            // Without a password the passkey is the last way to sign in, and stays.
            let identities = IdentityRepository(database: fixture.runtime.database)
            let password = try await identities.delete(id: "idn_" + alice.id, userID: alice.id, tenantID: fixture.tenantID)
            #expect(try await browser.get("/settings/passkeys/\(passkey.identityID)/remove").text.contains("Remove the passkey “Phone”?"))
            let refused = try await browser.post("/settings/passkeys/\(passkey.identityID)/remove")
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("This is your last way to sign in."))
            // With a password again, it goes, and no longer signs in.
            try await identities.insert(password)
            _ = try await browser.get("/settings/passkeys")
            let removed = try await browser.post("/settings/passkeys/\(passkey.identityID)/remove")
            #expect(removed.status == .seeOther)
            #expect(try await passkeys.passkeys(userID: alice.id, tenantID: fixture.tenantID).isEmpty)
            #expect(try await fixture.auditEvents().contains { $0.action == "identity.unlink" && $0.target == passkey.identityID })
            let gone = try await Self.signIn(WebBrowser(client), &authenticator)
            #expect(gone.status == .badRequest)
            #expect((try Self.json(gone)["error"] as? String)?.hasPrefix("This passkey is not registered here.") == true)
        }
    }
}

extension PasskeysTests {
    @Test(arguments: TestDatabases.kinds)
    func removingAPersonRemovesTheirPasskeys(kind: TestDatabases.Kind) async throws {
        try await Self.withApp(kind) { client, fixture in
            let alice = try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = try await Self.passwordBrowser(client, email: "alice@example.com")
            var authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: Self.publicURL)
            #expect(try await Self.register(browser, authenticator).status == .ok)
            _ = try await fixture.runtime.tenants.removeUser(userID: alice.id, tenantID: fixture.tenantID, actor: .cli)
            #expect(try await PasskeyRepository(database: fixture.runtime.database).passkeys(userID: alice.id, tenantID: fixture.tenantID).isEmpty)
            let refused = try await Self.signIn(WebBrowser(client), &authenticator)
            #expect(refused.status == .badRequest)
        }
    }
}

extension WebBrowser {
    /// Posts an assertion another browser already used, with this browser's own sign-in token.
    func signInReplaying(_ fields: [String: String]) async throws -> Page {
        _ = try await get("/login")
        return try await post("/login/passkey", fields.filter { $0.key != "csrf_token" })
    }
}

/// A ceremony's challenge lives five minutes.
@Suite("Passkey challenges")
struct PasskeyChallengeTests {
    @Test(arguments: TestDatabases.kinds)
    func aChallengeOlderThanFiveMinutesIsRefused(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await PasskeysTests.withApp(kind, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = try await PasskeysTests.passwordBrowser(client, email: "alice@example.com")
            var authenticator = SoftwareAuthenticator(rpID: "latchkey.example", origin: PasskeysTests.publicURL)
            _ = try await browser.get("/settings/passkeys")
            let options = try await browser.post("/settings/passkeys/options")
            let (clientData, attestation) = authenticator.register(challenge: try PasskeysTests.challenge(options))
            clock.advance(by: 301)
            let late = try await browser.post(
                "/settings/passkeys",
                ["clientDataJSON": clientData.base64URLEncodedString(), "attestationObject": attestation.base64URLEncodedString()]
            )
            #expect(late.status == .badRequest)
            #expect(try PasskeysTests.json(late)["error"] as? String == "This request to add a passkey has expired or was already used. Start again.")
            #expect(try await PasskeysTests.register(browser, authenticator).status == .ok)

            let visitor = WebBrowser(client)
            _ = try await visitor.get("/login")
            let signInOptions = try await visitor.post("/login/passkey/options", ["tenant": ""])
            let fields = try PasskeysTests.assertion(&authenticator, challenge: try PasskeysTests.challenge(signInOptions))
            clock.advance(by: 301)
            let expired = try await visitor.post("/login/passkey", fields)
            #expect(expired.status == .badRequest)
            #expect(try PasskeysTests.json(expired)["error"] as? String == "This sign-in has expired or was already used. Try again.")
        }
    }
}
