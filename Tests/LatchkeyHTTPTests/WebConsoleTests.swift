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
import NIOCore
import Testing

/// Sign-in, sessions, CSRF and the admin pages of the web console.
@Suite("Web console")
struct WebConsoleTests {
    @Test(arguments: TestDatabases.kinds)
    func signInSetsASafeCookieAndSignOutEndsTheSession(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            // Not signed in: sent to the sign-in page, remembering where to go.
            let away = try await browser.get("/connections")
            #expect(away.status == .seeOther)
            #expect(away.location == "/login?next=/connections")
            let login = try await browser.get("/login")
            #expect(login.text.contains(#"id="sign-in""#))
            let signedIn = try await browser.post(
                "/login",
                ["email": "Alice@Example.com", "password": "correct-horse-battery", "next": "/connections"]
            )
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/connections")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("latchkey_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"))  // the public URL is http here
            let center = try await browser.get("/connections")
            #expect(center.status == .ok)
            #expect(center.text.contains(#"id="sign-out""#))
            let out = try await browser.post("/logout")
            #expect(out.location == "/login")
            #expect(try await browser.get("/connections").status == .seeOther)
        }
    }

    @Test func cookiesAreSecureWhenThePublicURLIsHTTPS() async throws {
        let https: (inout ServerConfiguration) -> Void = { $0.publicURL = "https://latchkey.example.com" }
        try await TestApp.with(.sqlite, configure: https) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            let signedIn = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("latchkey_session=") })
            #expect(cookie.contains("Secure"))
        }
    }

    /// A signed-in person who calls the API from the browser learns that the API takes keys, not sessions.
    @Test func theAPISaysItTakesKeysNotBrowserSessions() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let answer = try await browser.get("/api/v1/credentials")
            #expect(answer.status == .unauthorized)
            #expect(answer.text.contains("API key, not a browser session"))
            #expect(!answer.text.contains("Sign in"))
        }
    }

    @Test func nextCannotRedirectElsewhere() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            for next in ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"] {
                let browser = WebBrowser(client)
                _ = try await browser.get("/login")
                let page = try await browser.post("/login", ["email": "alice@example.com", "password": "correct-horse-battery", "next": next])
                #expect(page.location == "/connections", "next=\(next)")
            }
        }
    }

    /// Every web form post needs the token of a page this browser rendered.
    @Test func everyWebPostNeedsItsCSRFToken() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            _ = admin
            _ = try await fixture.runtime.integrations.create(.init(key: "openai", provider: "openai"), tenantID: fixture.tenantID, actor: .cli)
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "admin@example.com", password: "correct-horse-battery")
            let id = UUID().uuidString.lowercased()
            let routes = [
                "/logout", "/connections/openai/connect", "/connections/\(id)/disconnect", "/connections/\(id)/reconnect",
                "/admin/integrations", "/admin/integrations/openai/toggle", "/admin/users",
            ]
            for route in routes {
                let missing = try await browser.post(route, [:], csrf: false)
                #expect(missing.status == .forbidden, "\(route) without a token")
                let forged = try await browser.post(route, ["csrf_token": "forged-token-value"], csrf: false)
                #expect(forged.status == .forbidden, "\(route) with a wrong token")
            }
            // The sign-in form is bound to the browser cookie: a token from another browser does not work.
            let other = WebBrowser(client)
            let page = try await other.get("/login")
            let token = try #require(WebBrowser.csrf(in: page.text))
            let fresh = WebBrowser(client)
            _ = try await fresh.get("/login")
            let crossed = try await fresh.post("/login", ["email": "admin@example.com", "password": "correct-horse-battery", "csrf_token": token])
            #expect(crossed.status == .forbidden)
            // Still signed in: none of the refused posts signed us out.
            #expect(try await browser.get("/connections").status == .ok)
        }
    }

    @Test func adminPagesAddIntegrationsAndUsersAndRefuseMembers() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            let admin = WebBrowser(client)
            _ = try await admin.signIn(email: "admin@example.com", password: "correct-horse-battery")
            _ = try await admin.get("/admin/integrations")
            let added = try await admin.post(
                "/admin/integrations",
                ["provider": "github", "clientId": "Iv1.abc", "clientSecret": "page-secret-value", "scopes": "repo read:user"]
            )
            #expect(added.location == "/admin/integrations")
            let list = try await admin.get(added.location!)
            #expect(list.text.contains("Integration github added."))
            #expect(!list.text.contains("page-secret-value"))
            let stored = try #require(try await fixture.runtime.integrations.integrations.find(key: "github", tenantID: fixture.tenantID))
            #expect(stored.scopes == ["repo", "read:user"])
            #expect(try await fixture.runtime.integrations.clientSecret(of: stored) == "page-secret-value")
            // A bad entry is explained and nothing is stored.
            let bad = try await admin.post("/admin/integrations", ["provider": "github", "key": "Bad Key!"])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("key"))
            // Toggle: disabled.
            _ = try await admin.get("/admin/integrations")
            #expect(try await admin.post("/admin/integrations/github/toggle").status == .seeOther)
            #expect(try await fixture.runtime.integrations.integrations.find(key: "github", tenantID: fixture.tenantID)?.enabled == false)
            // Users: an admin adds a member, who can sign in but not open admin pages.
            _ = try await admin.get("/admin/users")
            let user = try await admin.post("/admin/users", ["email": "bob@example.com", "name": "Bob", "password": "bob-password-123"])
            #expect(user.status == .seeOther)
            let bob = WebBrowser(client)
            #expect(try await bob.signIn(email: "bob@example.com", password: "bob-password-123").status == .seeOther)
            #expect(try await bob.get("/admin/integrations").status == .forbidden)
            #expect(try await bob.get("/admin/users").status == .forbidden)
            _ = try await bob.get("/connections")
            #expect(
                try await bob.post("/admin/users", ["email": "eve@example.com", "name": "Eve", "password": "eve-password-123"]).status == .forbidden
            )
        }
    }
}
