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

/// The Connect flow through the real router: sign in, connect, callback, list, reconnect, disconnect, against a
/// FakeProvider that plays the real catalog entry.
@Suite("Connect flow")
struct ConnectFlowTests {
    static let catalog = try! ProviderCatalog.bundled()

    struct World: Sendable {
        let fixture: TestFixture
        let browser: WebBrowser
        let fake: FakeProvider
        let user: User
    }

    /// A tenant with `provider` enabled, a signed-in user, and the fake on the network.
    static func withWorld<T: Sendable>(
        _ kind: TestDatabases.Kind = .sqlite,
        provider id: String = "github",
        issuer: String? = nil,
        clock: TestClock = TestClock(),
        settings: [String: String] = [:],
        _ body: @Sendable (World) async throws -> T
    ) async throws -> T {
        let provider = try #require(catalog.provider(id: id))
        let endpoints = settings.isEmpty ? nil : try EndpointResolver.resolve(provider: provider, settings: settings, templateValues: [:])
        let fake = try FakeProvider(provider: provider, endpoints: endpoints, issuer: issuer, clock: clock)
        let network = FakeNetwork([fake])
        return try await TestApp.with(kind, clock: clock, transport: network) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(
                    key: id,
                    provider: id,
                    clientID: provider.oauth == nil ? nil : "fake-client-id",
                    clientSecret: provider.oauth == nil ? nil : "fake-client-secret",
                    settings: settings
                ),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let user = try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            let signedIn = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            #expect(signedIn.status == .seeOther)
            return try await body(World(fixture: fixture, browser: browser, fake: fake, user: user))
        }
    }

    /// Starts a connect and returns the provider's authorization URL.
    static func start(_ world: World, key: String = "github", reconnect: String? = nil) async throws -> URL {
        _ = try await world.browser.get("/connections")
        let page: WebBrowser.Page
        if let reconnect {
            page = try await world.browser.post("/connections/\(reconnect)/reconnect")
        } else {
            page = try await world.browser.post("/connections/\(key)/connect")
        }
        #expect(page.status == .seeOther)
        return try #require(page.location.flatMap(URL.init(string:)))
    }

    static func credentials(_ world: World) async throws -> [Credential] {
        try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init(externalUserID: world.user.id)).items
    }

    @Test(arguments: TestDatabases.kinds)
    func githubConnectsAndIsListed(kind: TestDatabases.Kind) async throws {
        try await Self.withWorld(kind) { world in
            let authorize = try await Self.start(world)
            let query = queryOf(authorize)
            #expect(authorize.host == "github.com")
            #expect(query["redirect_uri"] == world.fixture.runtime.configuration.callbackURL)
            #expect(query["client_id"] == "fake-client-id")
            #expect((query["state"] ?? "").count >= 43)
            let callback = try await world.fake.authorize(url: authorize, accountID: "583231", email: "alice@company.com")
            let done = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            #expect(done.status == .seeOther)
            let location = try #require(done.location)
            #expect(location == "/connections")
            let center = try await world.browser.get(location)
            #expect(center.text.contains("GitHub connected as alice@company.com"))
            #expect(center.text.contains(#"class="account">alice@company.com<"#))
            // The message shows once, on the page the action leads to; a plain visit shows none, and no "nil" anywhere.
            let plain = try await world.browser.get("/connections")
            #expect(!plain.text.contains(#"class="flash""#))
            #expect(!plain.text.contains("nil"))
            let stored = try await Self.credentials(world)
            #expect(stored.count == 1)
            let credential = try #require(stored.first)
            #expect(credential.providerAccountID == "583231")
            #expect(credential.issuedBy == "integration")
            #expect(center.text.contains(#"data-credential-id="\#(credential.id)""#))
            // The token is the one the provider issued, encrypted at rest, and the creation is audited as the user.
            let (_, secret) = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            #expect(secret.accessToken?.isEmpty == false)
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            #expect(events.contains { $0.action == "credential.create" && $0.actor == "user:\(world.user.id)" && $0.target == credential.id })
            // The client secret went in the Authorization header of the token request, never in a URL.
            let tokenRequests = await world.fake.requests.filter { $0.url.path.hasSuffix("/access_token") }
            #expect(tokenRequests.count == 1)
            #expect(tokenRequests.allSatisfy { !$0.url.absoluteString.contains("fake-client-secret") })
        }
    }

    @Test func slackUserTokenIsReadFromAuthedUser() async throws {
        try await Self.withWorld(provider: "slack") { world in
            let authorize = try await Self.start(world, key: "slack")
            #expect(queryOf(authorize)["user_scope"] == "channels:read,chat:write,users:read")
            let callback = try await world.fake.authorize(url: authorize, accountID: "U024BE7LH")
            #expect(try await world.browser.get(WebBrowser.pathAndQuery(callback)).status == .seeOther)
            let credential = try #require(try await Self.credentials(world).first)
            #expect(credential.scopes == ["channels:read", "chat:write", "users:read"])
            let (_, secret) = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            // The user's token under authed_user, not the bot token the fake puts at the top level.
            #expect(secret.accessToken?.hasPrefix("fake-at-") == true && secret.accessToken != "fake-bot-token")
            #expect(credential.providerAccountID == "U024BE7LH")
        }
    }

    @Test func pkceIsSentAndCheckedWherePrividersSupportIt() async throws {
        try await Self.withWorld(provider: "gitlab") { world in
            let authorize = try await Self.start(world, key: "gitlab")
            let query = queryOf(authorize)
            #expect(query["code_challenge_method"] == "S256")
            #expect(query["code_challenge"]?.count == 43)
            let callback = try await world.fake.authorize(url: authorize)
            #expect(try await world.browser.get(WebBrowser.pathAndQuery(callback)).status == .seeOther)
            let exchange = try #require(await world.fake.requests.first { $0.formFields["grant_type"] == "authorization_code" })
            let verifier = try #require(exchange.formFields["code_verifier"])
            #expect(PKCE.challenge(for: verifier) == query["code_challenge"])
        }
    }

    @Test func reconnectingTheSameAccountUpdatesInPlaceAndAnotherAccountIsAddedBeside() async throws {
        try await Self.withWorld { world in
            let first = try await world.fake.authorize(url: try await Self.start(world), accountID: "1")
            _ = try await world.browser.get(WebBrowser.pathAndQuery(first))
            let original = try #require(try await Self.credentials(world).first)
            // Same account again, through Connect: same credential, new version.
            let again = try await world.fake.authorize(url: try await Self.start(world), accountID: "1")
            let page = try await world.browser.get(WebBrowser.pathAndQuery(again))
            #expect(page.location == "/connections")
            #expect(try await world.browser.get("/connections").text.contains("GitHub reconnected"))
            var all = try await Self.credentials(world)
            #expect(all.count == 1)
            #expect(all.first?.id == original.id)
            #expect((all.first?.version ?? 0) > original.version)
            // Reconnect button: the same credential again.
            let viaReconnect = try await world.fake.authorize(url: try await Self.start(world, reconnect: original.id), accountID: "1")
            _ = try await world.browser.get(WebBrowser.pathAndQuery(viaReconnect))
            #expect(try await Self.credentials(world).count == 1)
            // Another account: a second credential beside the first, which stays the default.
            let other = try await world.fake.authorize(url: try await Self.start(world), accountID: "2", email: "alice@home.example")
            _ = try await world.browser.get(WebBrowser.pathAndQuery(other))
            all = try await Self.credentials(world)
            #expect(all.count == 2)
            #expect(all.filter(\.isDefault).map(\.id) == [original.id])
            #expect(Set(all.compactMap(\.providerAccount)) == ["alice@example.com", "alice@home.example"])
        }
    }

    @Test func disconnectRevokesAtTheProviderAndDeletes() async throws {
        try await Self.withWorld(provider: "gitlab") { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world, key: "gitlab"))
            _ = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            let credential = try #require(try await Self.credentials(world).first)
            let (_, secret) = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            _ = try await world.browser.get("/connections")
            let page = try await world.browser.post("/connections/\(credential.id)/disconnect")
            #expect(page.location == "/connections")
            // The message is not in the address: it shows once, and a reload does not bring it back.
            #expect(try await world.browser.get("/connections").text.contains("GitLab account alice@example.com disconnected."))
            #expect(!(try await world.browser.get("/connections").text.contains("disconnected")))
            #expect(try await Self.credentials(world).isEmpty)
            let revoked = await world.fake.revokedTokens
            #expect(revoked.contains(try #require(secret.refreshToken)))
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            #expect(events.contains { $0.action == "credential.delete" && $0.details["provider_revocation"] == "revoked" })
            // Reading the token to revoke it is not a reveal: the only one is this test's own, above.
            #expect(events.filter { $0.action == "credential.reveal" }.map(\.actor) == [AuditActor.cli.id])
        }
    }

    @Test func deletingOverTheAPIAlsoRevokesAtTheProvider() async throws {
        try await Self.withWorld(provider: "gitlab") { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world, key: "gitlab"))
            _ = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            let credential = try #require(try await Self.credentials(world).first)
            let (_, secret) = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            let deleted = try await world.browser.client.execute(
                uri: "/api/v1/credentials/\(credential.id)",
                method: .delete,
                headers: world.fixture.headers
            )
            #expect(deleted.status == .noContent)
            #expect(await world.fake.revokedTokens.contains(try #require(secret.refreshToken)))
            #expect(try await Self.credentials(world).isEmpty)
        }
    }

    // MARK: Errors: nothing is stored, and the person reads what happened

    @Test func denyingAtTheProviderShowsTryAgain() async throws {
        try await Self.withWorld { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world), approve: false)
            let page = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            #expect(page.status == .badRequest)
            #expect(page.text.contains("You did not allow access at GitHub"))
            #expect(page.text.contains(#"id="try-again""#))
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            let denial = try #require(events.first { $0.action == "connect.denied" })
            #expect(denial.result == "failure" && denial.service == "github" && denial.details["error"] == "access_denied")
            #expect(denial.actor.hasPrefix("user:"))
            #expect(!page.text.contains("nil"))
            #expect(try await Self.credentials(world).isEmpty)
            // Try again goes straight back to the provider.
            let again = try await world.browser.post("/connections/github/connect")
            #expect(again.status == .seeOther)
            #expect(again.location?.hasPrefix("https://github.com/") == true)
        }
    }

    @Test func stateIsSingleUseBoundToTheBrowserAndExpires() async throws {
        let clock = TestClock()
        try await Self.withWorld(clock: clock) { world in
            // Another browser (another person) cannot finish it.
            let authorize = try await Self.start(world)
            let callback = try await world.fake.authorize(url: authorize)
            let bob = try await TestUsers.create(world.fixture, email: "bob@example.com")
            _ = bob
            let other = WebBrowser(world.browser.client)
            _ = try await other.signIn(email: "bob@example.com", password: "correct-horse-battery")
            let stolen = try await other.get(WebBrowser.pathAndQuery(callback))
            #expect(stolen.status == .badRequest)
            #expect(stolen.text.contains("another browser"))
            // The rightful browser still can, once.
            #expect(try await world.browser.get(WebBrowser.pathAndQuery(callback)).status == .seeOther)
            let replay = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            #expect(replay.status == .badRequest)
            #expect(try await Self.credentials(world).count == 1)
            // A state older than ten minutes is refused.
            let late = try await world.fake.authorize(url: try await Self.start(world), accountID: "late")
            clock.advance(by: 11 * 60)
            let expired = try await world.browser.get(WebBrowser.pathAndQuery(late))
            #expect(expired.status == .badRequest)
            #expect(expired.text.contains("expired"))
            // A made-up state is refused.
            let forged = try await world.browser.get("/connect/callback?code=abc&state=not-a-state")
            #expect(forged.status == .badRequest)
            #expect(try await Self.credentials(world).count == 1)
        }
    }

    @Test func issuerMismatchIsRefused() async throws {
        try await Self.withWorld(
            provider: "oidc",
            issuer: "https://evil.example",
            settings: [
                "issuer": "https://id.example", "authorizationURL": "https://id.example/authorize", "tokenURL": "https://id.example/token",
                "userInfoURL": "https://id.example/userinfo", "discoveryURL": "https://id.example/.well-known/openid-configuration",
            ]
        ) { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world, key: "oidc"))
            let page = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            #expect(page.status == .badRequest)
            #expect(page.text.contains("different sign-in server"))
            #expect(await world.fake.exchangeCount == 0)
            #expect(try await Self.credentials(world).isEmpty)
        }
    }

    @Test(arguments: [
        (FakeProvider.Override.html, "GitHub"), (.oversized, "GitHub"), (.noAccessToken, "GitHub"), (.unreachable, "Cannot reach GitHub"),
        (.status(500, body: "oops", contentType: "text/plain"), "GitHub"), (.error("invalid_grant"), "GitHub"),
    ])
    func tokenEndpointFailuresStoreNothing(override: FakeProvider.Override, expected: String) async throws {
        try await Self.withWorld { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world))
            await world.fake.nextTokenResponse(override)
            let page = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            #expect(page.status == .badGateway)
            #expect(page.text.contains(expected))
            #expect(page.text.contains(#"id="try-again""#))
            #expect(!page.text.contains("Fatal"))
            #expect(try await Self.credentials(world).isEmpty)
        }
    }

    @Test(arguments: ["0", "-5", "\"abc\"", "\"3600\""])
    func oddExpiresInIsHandled(value: String) async throws {
        try await Self.withWorld(provider: "gitlab") { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world, key: "gitlab"))
            await world.fake.nextTokenResponse(.expiresIn(value))
            #expect(try await world.browser.get(WebBrowser.pathAndQuery(callback)).status == .seeOther)
            let credential = try #require(try await Self.credentials(world).first)
            if value == "\"3600\"" {
                #expect(credential.expiresAt != nil)
            } else {
                #expect(credential.expiresAt == nil)
            }
        }
    }

    // MARK: API-key providers, isolation, disabled integrations

    @Test func apiKeyProvidersGetAFormAndTheKeyIsChecked() async throws {
        try await Self.withWorld(provider: "openai") { world in
            _ = try await world.browser.get("/connections")
            let form = try await world.browser.post("/connections/openai/connect")
            #expect(form.status == .ok)
            #expect(form.text.contains(#"name="api_key""#))
            let wrong = try await world.browser.post("/connections/openai/connect", ["api_key": "sk-wrong"])
            #expect(wrong.status == .badRequest)
            #expect(wrong.text.contains("did not accept"))
            #expect(!wrong.text.contains("sk-wrong"))
            #expect(try await Self.credentials(world).isEmpty)
            let right = try await world.browser.post("/connections/openai/connect", ["api_key": world.fake.apiKey])
            #expect(right.status == .seeOther)
            let credential = try #require(try await Self.credentials(world).first)
            #expect(credential.type == .apiKey)
        }
    }

    @Test func bobNeverSeesOrTouchesAlicesConnections() async throws {
        try await Self.withWorld { world in
            let callback = try await world.fake.authorize(url: try await Self.start(world))
            _ = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            let alices = try #require(try await Self.credentials(world).first)
            try await TestUsers.create(world.fixture, email: "bob@example.com")
            let bob = WebBrowser(world.browser.client)
            _ = try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery")
            let center = try await bob.get("/connections")
            #expect(!center.text.contains(alices.id))
            #expect(!center.text.contains("alice@company.com"))
            #expect(try await bob.post("/connections/\(alices.id)/disconnect").status == .notFound)
            #expect(try await bob.post("/connections/\(alices.id)/reconnect").status == .notFound)
            #expect(try await Self.credentials(world).count == 1)
        }
    }

    @Test func disabledIntegrationsDisappearFromTheCenter() async throws {
        try await Self.withWorld { world in
            #expect(try await world.browser.get("/connections").text.contains(#"data-integration="github""#))
            _ = try await world.fixture.runtime.integrations.update(
                key: "github",
                tenantID: world.fixture.tenantID,
                changes: .init(enabled: false),
                actor: .cli
            )
            let center = try await world.browser.get("/connections")
            #expect(!center.text.contains(#"class="service tile" data-integration="github""#))
            #expect(try await world.browser.post("/connections/github/connect").status == .notFound)
        }
    }
}

/// The query of a URL as a dictionary (first value wins).
func queryOf(_ url: URL) -> [String: String] {
    var out: [String: String] = [:]
    for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] where out[item.name] == nil {
        out[item.name] = item.value ?? ""
    }
    return out
}

@Suite("Connect keeps secrets out of logs, pages, metrics and audit")
struct ConnectSecretHygieneTests {
    @Test func noTokenCodeStateVerifierOrClientSecretLeaks() async throws {
        try await ConnectFlowTests.withWorld(provider: "gitlab") { world in
            let fixture = world.fixture
            var outputs: [String] = []
            let authorize = try await ConnectFlowTests.start(world, key: "gitlab")
            let state = try #require(queryOf(authorize)["state"])
            let callback = try await world.fake.authorize(url: authorize)
            let code = try #require(queryOf(callback)["code"])
            let done = try await world.browser.get(WebBrowser.pathAndQuery(callback))
            outputs.append(try await world.browser.get(done.location ?? "/connections").text)
            // A failing exchange, a replay and a denial, for their pages and logs.
            let failing = try await world.fake.authorize(url: try await ConnectFlowTests.start(world, key: "gitlab"), accountID: "2")
            await world.fake.nextTokenResponse(
                .status(400, body: #"{"error":"invalid_grant","error_description":"\#(code)"}"#, contentType: "application/json")
            )
            outputs.append(try await world.browser.get(WebBrowser.pathAndQuery(failing)).text)
            outputs.append(try await world.browser.get(WebBrowser.pathAndQuery(callback)).text)
            let credential = try #require(try await ConnectFlowTests.credentials(world).first)
            let (_, secret) = try await fixture.runtime.vault.reveal(id: credential.id, tenantID: fixture.tenantID, actor: .cli)
            let exchange = try #require(await world.fake.requests.first { $0.formFields["grant_type"] == "authorization_code" })
            let verifier = try #require(exchange.formFields["code_verifier"])
            _ = try await world.browser.get("/connections")
            outputs.append(try await world.browser.post("/connections/\(credential.id)/disconnect").text)
            outputs.append(
                try await world.browser.client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers).text
            )
            outputs.append(try await world.browser.client.execute(uri: "/api/v1/integrations", method: .get, headers: fixture.headers).text)
            outputs.append(try await world.browser.client.execute(uri: "/metrics", method: .get).text)
            outputs.append(TestMetrics.text)
            outputs.append(fixture.logs.text)
            #expect(fixture.logs.text.contains("connect started"))  // the capture works
            let secrets = [
                try #require(secret.accessToken), try #require(secret.refreshToken), "fake-client-secret", "correct-horse-battery", code, state,
                verifier,
            ]
            for (index, output) in outputs.enumerated() {
                for value in secrets {
                    #expect(!output.contains(value), "output #\(index) contains a secret")
                }
            }
        }
    }
}
