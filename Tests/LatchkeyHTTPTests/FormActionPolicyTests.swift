import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Chromium applies a page's `form-action` to the redirect that follows a form POST: pages whose forms lead to a
/// provider must list that provider's origin, or *Connect* does nothing. Every other page keeps `form-action 'self'`.
@Suite("Form-action policy of the console pages")
struct FormActionPolicyTests {
    /// A tenant with a signed-in console user; `admin` makes the user an administrator.
    static func withSignedIn<T: Sendable>(
        transport: (any HTTPTransport)? = nil,
        admin: Bool = false,
        _ body: @Sendable (WebBrowser, TestFixture, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await TestApp.with(.sqlite, transport: transport) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com", admin: admin)
            let browser = WebBrowser(client)
            #expect(try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery").status == .seeOther)
            return try await body(browser, fixture, client)
        }
    }

    static func enable(
        _ fixture: TestFixture,
        key: String,
        provider: String,
        settings: [String: String] = [:],
        displayName: String? = nil
    )
        async throws
    {
        var new = IntegrationStore.NewIntegration(
            key: key,
            provider: provider,
            clientID: "fake-client-id",
            clientSecret: "fake-client-secret",
            settings: settings
        )
        new.displayName = displayName
        _ = try await fixture.runtime.integrations.create(new, tenantID: fixture.tenantID, actor: .cli)
    }

    /// The sources of the page's `form-action` directive, after checking that the header has exactly the four
    /// directives every page has (and, on pages with our own script, only our origin for scripts and their requests).
    static func formAction(_ headers: HTTPFields) throws -> [String] {
        let policy = try #require(headers[.contentSecurityPolicy])
        let directives = policy.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0 != "script-src 'self'" && $0 != "connect-src 'self'" }
        #expect(directives.count == 4)
        #expect(directives.contains("default-src 'none'"))
        #expect(directives.contains("style-src 'unsafe-inline'"))
        #expect(directives.contains("frame-ancestors 'none'"))
        let formAction = try #require(directives.first { $0.hasPrefix("form-action ") })
        return formAction.split(separator: " ").dropFirst().map(String.init)
    }

    @Test func connectionCenterListsTheOriginOfEachProvider() async throws {
        let network = FakeNetwork()
        await network.route(host: "id.example", to: DiscoveryServer())
        try await Self.withSignedIn(transport: network) { browser, fixture, client in
            try await Self.enable(fixture, key: "github", provider: "github")
            try await Self.enable(fixture, key: "openai", provider: "openai")
            try await Self.enable(
                fixture,
                key: "corp",
                provider: "oauth2",
                settings: [
                    "authorizationURL": "https://login.corp.example:8443/oauth/authorize?tenant=1", "tokenURL": "https://api.corp.example/token",
                ]
            )
            let oidc = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "provider": "oidc", "key": "sso", "clientId": "c", "clientSecret": "s", "scopes": ["openid", "email"],
                    "settings": ["discoveryURL": "https://id.example/.well-known/openid-configuration"],
                ])
            )
            #expect(oidc.status == .created)
            let center = try await browser.get("/connections")
            #expect(center.status == .ok)
            // An API key never leaves our origin; the OIDC origin comes from the discovery document.
            #expect(try Self.formAction(center.headers) == ["'self'", "https://github.com", "https://id.example", "https://login.corp.example:8443"])
            // Each of them is really where Connect goes.
            for (key, origin) in [("github", "https://github.com"), ("corp", "https://login.corp.example:8443"), ("sso", "https://id.example")] {
                let started = try await browser.post("/connections/\(key)/connect")
                #expect(started.status == .seeOther)
                #expect(started.location?.hasPrefix(origin + "/") == true)
                _ = try await browser.get("/connections")
            }
        }
    }

    @Test func accountDependentHostsBecomeAWildcardOverTheirFirstLabel() async throws {
        try await Self.withSignedIn { browser, fixture, _ in
            try await Self.enable(fixture, key: "shopify", provider: "shopify")
            try await Self.enable(fixture, key: "zendesk", provider: "zendesk")
            let center = try await browser.get("/connections")
            #expect(try Self.formAction(center.headers) == ["'self'", "https://*.myshopify.com", "https://*.zendesk.com"])
            // The shop is asked first; its form is redirected to the shop, so it lists the same wildcard.
            let form = try await browser.post("/connections/shopify/connect")
            #expect(form.status == .ok)
            #expect(form.text.contains(#"name="template_shop""#))
            #expect(try Self.formAction(form.headers) == ["'self'", "https://*.myshopify.com"])
            let started = try await browser.post("/connections/shopify/connect", ["template_shop": "acme-store"])
            #expect(started.status == .seeOther)
            #expect(started.location?.hasPrefix("https://acme-store.myshopify.com/admin/oauth/authorize?") == true)
            // A value that is not a shop name is refused before anything is built from it.
            let hostile = try await browser.post("/connections/shopify/connect", ["template_shop": "x.evil.example;"])
            #expect(hostile.status == .badRequest)
            #expect(try Self.formAction(hostile.headers) == ["'self'"])
        }
    }

    @Test func tryAgainAfterADenialListsTheProvider() async throws {
        try await ConnectFlowTests.withWorld { world in
            let authorize = try await ConnectFlowTests.start(world)
            let denied = try await world.fake.authorize(url: authorize, approve: false)
            let page = try await world.browser.get(WebBrowser.pathAndQuery(denied))
            #expect(page.text.contains(#"id="try-again""#))
            #expect(try Self.formAction(page.headers) == ["'self'", "https://github.com"])
            // Signed out, the same failure offers no form, and the page lists nothing else.
            let signedOut = WebBrowser(world.browser.client)
            let anonymous = try await signedOut.get(WebBrowser.pathAndQuery(denied))
            #expect(!anonymous.text.contains(#"id="try-again""#))
            #expect(try Self.formAction(anonymous.headers) == ["'self'"])
        }
    }

    @Test func pagesWhoseFormsStayHomeKeepSelfOnly() async throws {
        try await Self.withSignedIn(admin: true) { browser, fixture, client in
            try await Self.enable(fixture, key: "github", provider: "github")
            try await Self.enable(fixture, key: "openai", provider: "openai")
            for path in ["/admin/integrations", "/admin/users", "/admin/connections", "/connections/openai/connect", "/no-such-page"] {
                let page = try await browser.get(path)
                #expect(try Self.formAction(page.headers) == ["'self'"], "\(path)")
            }
            let login = try await WebBrowser(client).get("/login")
            #expect(login.status == .ok)
            #expect(try Self.formAction(login.headers) == ["'self'"])
        }
    }

    @Test func nothingFromSettingsOrPeopleReachesTheHeaderButAnOrigin() async throws {
        try await Self.withSignedIn { browser, fixture, _ in
            let hostile = [
                "path": "https://ok.example/authorize;script-src%20'unsafe-inline',%20*",
                "comma": "https://comma.example,'unsafe-eval'/authorize",
                "quote": "https://quote.example'/authorize",
                "underscore": "https://under_score.example/authorize",
                "space": "https://space.example%20script-src/authorize",
            ]
            for (key, url) in hostile {
                try await Self.enable(
                    fixture,
                    key: key,
                    provider: "oauth2",
                    settings: ["authorizationURL": url, "tokenURL": "https://ok.example/token"],
                    displayName: "Name; script-src *, 'unsafe-eval'"
                )
            }
            let center = try await browser.get("/connections")
            let sources = try Self.formAction(center.headers)
            #expect(sources == ["'self'", "https://ok.example"])
            let header = try #require(center.headers[.contentSecurityPolicy])
            #expect(!header.contains(","))
            #expect(!header.contains("script-src"))
            #expect(!header.contains("unsafe-eval"))
        }
    }

    @Test func originsAreWrittenAsBrowsersCompareThem() async throws {
        try await Self.withSignedIn { browser, fixture, _ in
            let endpoints = [
                "upper": "HTTPS://Login.Upper.EXAMPLE:443/authorize",
                "plain": "http://127.0.0.1:8081/authorize",
                "default": "http://sso.default.example:80/authorize",
                "duplicate": "https://login.upper.example/other",
                "ipv6": "https://[::1]:8443/authorize",
            ]
            for (key, url) in endpoints {
                try await Self.enable(
                    fixture,
                    key: key,
                    provider: "oauth2",
                    settings: ["authorizationURL": url, "tokenURL": "https://t.example/token"]
                )
            }
            let center = try await browser.get("/connections")
            #expect(
                try Self.formAction(center.headers) == [
                    "'self'", "http://127.0.0.1:8081", "http://sso.default.example", "https://login.upper.example",
                ]
            )
            // The address a policy cannot name still works, through the page that continues by itself.
            let started = try await browser.post("/connections/ipv6/connect")
            #expect(started.status == .ok)
            #expect(started.text.contains(#"<meta http-equiv="refresh" content="0; url=https://[::1]:8443/authorize?"#))
            _ = try await browser.get("/connections")
            #expect(try await browser.post("/connections/upper/connect").status == .seeOther)
        }
    }

    @Test func aProviderOriginNoPolicyCanNameContinuesThroughAPageOfOurOwn() async throws {
        try await Self.withSignedIn { browser, fixture, _ in
            try await Self.enable(
                fixture,
                key: "intranet",
                provider: "oauth2",
                settings: ["authorizationURL": "https://sso_gateway.corp.example/authorize", "tokenURL": "https://sso_gateway.corp.example/token"]
            )
            let center = try await browser.get("/connections")
            #expect(try Self.formAction(center.headers) == ["'self'"])
            // A redirect the browser would block is replaced by a page that goes on by navigation.
            let started = try await browser.post("/connections/intranet/connect")
            #expect(started.status == .ok)
            #expect(started.location == nil)
            #expect(try Self.formAction(started.headers) == ["'self'"])
            #expect(started.text.contains(#"<meta http-equiv="refresh" content="0; url=https://sso_gateway.corp.example/authorize?"#))
            #expect(started.text.contains(#"id="continue" href="https://sso_gateway.corp.example/authorize?"#))
            #expect(started.text.contains("state="))
        }
    }
}
