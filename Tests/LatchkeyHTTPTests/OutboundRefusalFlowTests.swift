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

/// Calls the outbound policy refuses, through the real router with the fake network behind the policy: each path
/// says that the policy refused (and how to allow it), logs the host and the reason, and sends nothing.
@Suite("Outbound policy refusals")
struct OutboundRefusalFlowTests {
    static let publicAddress = AddressClassifier.literal("93.184.215.14")!
    static let privateAddress = AddressClassifier.literal("10.0.0.5")!

    struct World: Sendable {
        let fixture: TestFixture
        let client: any TestClientProtocol
        let browser: WebBrowser
        let fake: FakeProvider
        let network: FakeNetwork
    }

    /// A generic OpenID Connect integration `corp` at id.example, with `privateEndpoint` (one of its endpoint
    /// settings) moved to `internal.corp.example`, a name that resolves to 10.0.0.5.
    static func withWorld(privateEndpoint: String, _ body: @Sendable (World) async throws -> Void) async throws {
        var settings = [
            "issuer": "https://id.example", "authorizationURL": "https://id.example/authorize", "tokenURL": "https://id.example/token",
            "userInfoURL": "https://id.example/userinfo", "revocationURL": "https://id.example/revoke",
            "discoveryURL": "https://id.example/.well-known/openid-configuration",
        ]
        settings[privateEndpoint] = "https://internal.corp.example/\(privateEndpoint)"
        let configured = settings
        let provider = try #require(ConnectFlowTests.catalog.provider(id: "oidc"))
        let endpoints = try EndpointResolver.resolve(provider: provider, settings: settings, templateValues: [:])
        let fake = try FakeProvider(provider: provider, endpoints: endpoints, clock: TestClock())
        let network = FakeNetwork([fake])
        let resolver = NameResolver.fixed(["id.example": [publicAddress], "internal.corp.example": [privateAddress]])
        let policy = OutboundPolicy(allowPrivateNetwork: false, resolver: resolver)
        try await TestApp.with(.sqlite, transport: network, outboundPolicy: policy) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "corp", provider: "oidc", clientID: "fake-client-id", clientSecret: "fake-client-secret", settings: configured),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            _ = try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            #expect(try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery").status == .seeOther)
            try await body(World(fixture: fixture, client: client, browser: browser, fake: fake, network: network))
        }
    }

    static let refusal = "Latchkey did not call internal.corp.example: it resolves to 10.0.0.5, a private address."

    static func expectRefusalLogged(_ world: World) async {
        let logs = world.fixture.logs.text
        #expect(logs.contains("outbound call refused by the policy"))
        #expect(logs.contains("internal.corp.example") && logs.contains("it resolves to 10.0.0.5, a private address"))
        let sent = await world.network.requests
        #expect(!sent.contains { $0.url.host == "internal.corp.example" })
    }

    static func connect(_ world: World) async throws -> WebBrowser.Page {
        _ = try await world.browser.get("/connections")
        let started = try await world.browser.post("/connections/corp/connect")
        let authorize = try #require(started.location.flatMap(URL.init(string:)))
        let callback = try await world.fake.authorize(url: authorize)
        return try await world.browser.get(WebBrowser.pathAndQuery(callback))
    }

    /// Token exchange: "169.254.169.254 sent an answer Latchkey cannot use" became the policy's own words.
    @Test func theCodeExchangeSaysThePolicyRefused() async throws {
        try await Self.withWorld(privateEndpoint: "tokenURL") { world in
            let page = try await Self.connect(world)
            #expect(page.text.contains(Self.refusal))
            #expect(page.text.contains("Start the server with --allow-private-network"))
            #expect(!page.text.contains("cannot use"))
            #expect(await world.fake.exchangeCount == 0)
            await Self.expectRefusalLogged(world)
        }
    }

    /// User-info: the connection is kept (the account shows as unknown); the refusal is logged.
    @Test func theIdentityLookupRefusalIsLogged() async throws {
        try await Self.withWorld(privateEndpoint: "userInfoURL") { world in
            let connected = try await Self.connect(world)
            #expect(connected.status == .seeOther)
            #expect(world.fixture.logs.text.contains("identity lookup failed"))
            await Self.expectRefusalLogged(world)
        }
    }

    /// Revocation on disconnect: best effort, so the credential goes; the refusal is logged.
    @Test func theRevocationRefusalIsLogged() async throws {
        try await Self.withWorld(privateEndpoint: "revocationURL") { world in
            let connected = try await Self.connect(world)
            #expect(connected.status == .seeOther)
            let credential = try #require(try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init()).items.first)
            _ = try await world.browser.get("/connections")
            #expect(try await world.browser.post("/connections/\(credential.id)/disconnect").status == .seeOther)
            #expect(try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init()).items.isEmpty)
            await Self.expectRefusalLogged(world)
        }
    }

    /// Refresh to a private address used to end as `502 provider_unreachable` with no log line. The refusal is a
    /// configuration problem: not a provider failure, and no refresh request is sent.
    @Test func aRefreshRefusalIsNotAProviderFailure() async throws {
        try await Self.withWorld(privateEndpoint: "tokenURL") { world in
            let created = try await world.client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: world.fixture.headers,
                body: try body([
                    "integration": "corp", "type": "oauth2", "externalUserId": "alice", "accessToken": "old-access", "refreshToken": "old-refresh",
                    "expiresAt": "2020-01-01T00:00:00Z",
                ])
            )
            #expect(created.status == .created)
            let answer = try await world.client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: world.fixture.headers,
                body: try body(["integration": "corp", "externalUserId": "alice"])
            )
            #expect(answer.status != .ok)
            #expect(answer.errorCode != "provider_unreachable")
            #expect(await world.fake.refreshCount == 0)
            await Self.expectRefusalLogged(world)
        }
    }
}
