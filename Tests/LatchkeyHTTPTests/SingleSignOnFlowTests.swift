import Foundation
import HTTPTypes
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Single sign-on and social sign-in through the router: the redirect to the provider, what its answer leads to
/// (sign-in, just-in-time account, link, refusal) and every failure as a page in plain words.
@Suite("Single sign-on")
struct SingleSignOnFlowTests {
    static func query(_ url: URL) -> [String: String] {
        var out: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }

    @Test(arguments: TestDatabases.kinds)
    func aNewPersonGetsAnAccountJustInTimeAndComesBackToIt(kind: TestDatabases.Kind) async throws {
        try await SingleSignOnWorld.with(kind) { world in
            try await world.enable("corp", createUsers: true, domains: ["example.com"])
            let browser = WebBrowser(world.client)
            let login = try await browser.get("/login?next=/connections")
            #expect(login.text.contains("Sign in with Corp ID"))
            #expect(login.text.contains(#"href="/login/sso/corp?next=/connections""#))
            let started = try await browser.get("/login/sso/corp?next=/connections")
            let authorize = try #require(started.location.flatMap(URL.init(string:)))
            let query = Self.query(authorize)
            #expect(authorize.host == "id.example.test")
            #expect(query["scope"] == "openid email profile")
            #expect(query["redirect_uri"] == world.fixture.runtime.configuration.effectivePublicURL + "/login/sso/callback")
            #expect(query["code_challenge_method"] == "S256" && (query["nonce"] ?? "").count >= 43)
            let callback = try await world.oidc.fake.authorize(url: authorize, accountID: "sub-1", email: "alice@example.com")
            let done = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(done.status == .seeOther)
            #expect(done.location == "/connections")
            #expect(try await browser.get("/connections").status == .ok)
            let user = try #require(try await world.fixture.runtime.tenants.users.user(email: "alice@example.com", tenantID: world.fixture.tenantID))
            #expect(user.passwordHash == nil && !user.user.isAdmin)
            let identities = try await IdentityRepository(database: world.fixture.runtime.database).identities(
                userID: user.user.id,
                tenantID: world.fixture.tenantID
            )
            #expect(identities.map(\.provider) == [SigningIdentityProvider.issuer] && identities.map(\.subject) == ["sub-1"])
            #expect(identities.map(\.method) == [.oidc])
            // Signed out and back: the same person, no second account.
            let again = WebBrowser(world.client)
            let second = try await again.get(try await world.providerAnswer(again))
            #expect(second.status == .seeOther)
            #expect(try await world.fixture.runtime.tenants.users.list(tenantID: world.fixture.tenantID).count == 1)
            let events = try await world.fixture.auditEvents()
            #expect(events.filter { $0.action == "user.create" }.map(\.target) == [user.user.id])
            let signIns = events.filter { $0.action == "user.sign_in" }
            #expect(signIns.count == 2 && signIns.allSatisfy { $0.target == user.user.id && $0.details["method"] == "oidc" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func somebodyUnknownIsToldWhoToAsk(kind: TestDatabases.Kind) async throws {
        try await SingleSignOnWorld.with(kind) { world in
            try await world.enable("corp")
            let browser = WebBrowser(world.client)
            let page = try await browser.get(try await world.providerAnswer(browser))
            #expect(page.status == .forbidden)
            #expect(page.text.contains("There is no account here for alice@example.com. Ask your administrator"))
            #expect(try await world.fixture.runtime.tenants.users.list(tenantID: world.fixture.tenantID).isEmpty)
            let refused = try #require(try await world.fixture.auditEvents().last { $0.action == "user.sign_in" })
            #expect(refused.result == "failure" && refused.details["reason"] == "unknown_identity")
        }
    }

    @Test func justInTimeNeedsAnAllowedVerifiedEmailAndNeverTakesOverAnAccount() async throws {
        try await SingleSignOnWorld.with { world in
            try await world.enable("corp", createUsers: true, domains: ["corp.example"])
            let outside = WebBrowser(world.client)
            let refused = try await outside.get(try await world.providerAnswer(outside))
            #expect(refused.status == .forbidden)
            // The domain is allowed, the address not confirmed by the provider.
            try await world.enable("corp", createUsers: true)
            await world.oidc.setExtraClaims(["email_verified": false])
            let unverified = WebBrowser(world.client)
            let page = try await unverified.get(try await world.providerAnswer(unverified))
            #expect(page.status == .forbidden)
            #expect(page.text.contains("did not confirm an email address"))
            // Someone already has the address: no link by email, sign in the usual way and link in Settings.
            await world.oidc.setExtraClaims(["email_verified": true])
            try await TestUsers.create(world.fixture, email: "alice@example.com")
            let existing = WebBrowser(world.client)
            let conflict = try await existing.get(try await world.providerAnswer(existing))
            #expect(conflict.status == .conflict)
            #expect(conflict.text.contains("Sign in the way you usually do, then link Corp ID"))
            #expect(try await world.fixture.runtime.tenants.users.list(tenantID: world.fixture.tenantID).count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPasswordUserLinksSingleSignOnThenSignsInWithIt(kind: TestDatabases.Kind) async throws {
        try await SingleSignOnWorld.with(kind) { world in
            try await world.enable("corp")
            let alice = try await TestUsers.create(world.fixture, email: "alice@example.com")
            let browser = WebBrowser(world.client)
            #expect(try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery").status == .seeOther)
            _ = try await browser.get("/connections")
            let continuePage = try await browser.post("/settings/identities/sso/corp")
            #expect(continuePage.status == .ok)
            let link = try #require(continuePage.text.range(of: #"id="continue" href="([^"]+)""#, options: .regularExpression))
            let href = String(continuePage.text[link]).components(separatedBy: "href=\"")[1].dropLast().replacingOccurrences(of: "&amp;", with: "&")
            let callback = try await world.oidc.fake.authorize(
                url: try #require(URL(string: href)),
                accountID: "sub-alice",
                email: "alice@corp.example"
            )
            let linked = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(linked.status == .seeOther)
            #expect(linked.location == "/settings/identities")
            let identities = try await IdentityRepository(database: world.fixture.runtime.database).identities(
                userID: alice.id,
                tenantID: world.fixture.tenantID
            )
            #expect(Set(identities.map(\.method)) == [.password, .oidc])
            #expect(try await world.fixture.auditEvents().contains { $0.action == "identity.link" && $0.target == alice.id })
            // Another browser signs in with it, as Alice.
            let other = WebBrowser(world.client)
            let done = try await other.get(try await world.providerAnswer(other, accountID: "sub-alice", email: "alice@corp.example"))
            #expect(done.status == .seeOther)
            let signIn = try #require(try await world.fixture.auditEvents().last { $0.action == "user.sign_in" })
            #expect(signIn.target == alice.id && signIn.details["method"] == "oidc")
        }
    }

    @Test func socialSignInLinksAndSignsInByTheProvidersUserId() async throws {
        try await SingleSignOnWorld.with { world in
            try await world.enable("hub")
            let bob = try await TestUsers.create(world.fixture, email: "bob@example.com")
            let browser = WebBrowser(world.client)
            _ = try await browser.signIn(email: "bob@example.com", password: "correct-horse-battery")
            _ = try await browser.get("/connections")
            let continuePage = try await browser.post("/settings/identities/sso/hub")
            let href = try #require(continuePage.text.components(separatedBy: #"id="continue" href=""#).last?.components(separatedBy: "\"").first)
            let authorize = try #require(URL(string: href.replacingOccurrences(of: "&amp;", with: "&")))
            #expect(Self.query(authorize)["nonce"] == nil)
            let callback = try await world.social.authorize(url: authorize, accountID: "4242", email: "bob@example.com")
            #expect(try await browser.get(WebBrowser.pathAndQuery(callback)).location == "/settings/identities")
            let other = WebBrowser(world.client)
            let done = try await other.get(try await world.providerAnswer(other, key: "hub", accountID: "4242", email: "bob@example.com"))
            #expect(done.status == .seeOther)
            let signIn = try #require(try await world.fixture.auditEvents().last { $0.action == "user.sign_in" })
            #expect(signIn.target == bob.id && signIn.details["method"] == "social" && signIn.details["provider"] == "hub")
        }
    }

    @Test func failuresArePagesInPlainWords() async throws {
        try await SingleSignOnWorld.with { world in
            try await world.enable("corp", createUsers: true)
            // The person declines at the provider.
            let declined = WebBrowser(world.client)
            let denied = try await declined.get(try await world.providerAnswer(declined, approve: false))
            #expect(denied.status == .badRequest && denied.text.contains("You did not allow Corp ID to sign you in"))
            // A token signed with a key the provider does not publish.
            await world.oidc.setForge(true)
            let forged = WebBrowser(world.client)
            let forgedPage = try await forged.get(try await world.providerAnswer(forged))
            #expect(forgedPage.status == .badRequest && forgedPage.text.contains("signature that does not match"))
            #expect(try await world.fixture.runtime.tenants.users.list(tenantID: world.fixture.tenantID).isEmpty)
            await world.oidc.setForge(false)
            // The answer arrives in another browser, then a second time.
            let starter = WebBrowser(world.client)
            let callback = try await world.providerAnswer(starter)
            let elsewhere = try await WebBrowser(world.client).get(callback)
            #expect(elsewhere.status == .badRequest && elsewhere.text.contains("started in another browser"))
            let replay = try await starter.get(callback)
            #expect(replay.status == .badRequest && replay.text.contains("expired or was already used"))
            // The token endpoint fails.
            let failing = WebBrowser(world.client)
            let answer = try await world.providerAnswer(failing)
            await world.oidc.fake.nextTokenResponse(.status(500, body: "oops", contentType: "text/plain"))
            let broken = try await failing.get(answer)
            #expect(broken.status == .badRequest && broken.text.contains("Corp ID"))
            #expect(try await WebBrowser(world.client).get("/login/sso/callback").status == .badRequest)
            // A provider that is not turned on, or cannot sign anyone in.
            #expect(try await WebBrowser(world.client).get("/login/sso/hub").status == .notFound)
            #expect(try await WebBrowser(world.client).get("/login/sso/nothing").status == .notFound)
            // Declined, forged, token endpoint failure: each a failed sign-in in the audit log, with its reason.
            let refusals = try await world.fixture.auditEvents().filter { $0.action == "user.sign_in" && $0.result == "failure" }
            #expect(refusals.compactMap { $0.details["reason"] } == ["provider_access_denied", "id_token", "token_exchange"])
        }
    }

    @Test func aWeakSessionCannotLink() async throws {
        try await SingleSignOnWorld.with { world in
            try await world.enable("corp")
            let alice = try await TestUsers.create(world.fixture, email: "alice@example.com")
            let runtime = world.fixture.runtime
            let token = try await WebSessions(store: runtime.webSessionStore, keyring: runtime.keyring, clock: runtime.clock)
                .create(user: alice, method: .app, ip: nil, userAgent: nil)
            let browser = WebBrowser(world.client)
            await browser.setCookie("latchkey_session", token)
            _ = try await browser.get("/connections")
            let page = try await browser.post("/settings/identities/sso/corp")
            #expect(page.status == .seeOther)
            #expect(page.location?.hasPrefix("/login") == true)
            #expect(await world.oidc.fake.requests.isEmpty)
        }
    }
}
