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
import Testing

/// What the Connection Center's tiles say about each service.
@Suite("Connection Center page")
struct ConnectionCenterPageTests {
    @Test func tilesNameTheServiceAsTheAdministratorNamedIt() async throws {
        try await FormActionPolicyTests.withSignedIn { browser, fixture, _ in
            try await FormActionPolicyTests.enable(
                fixture,
                key: "corp",
                provider: "oauth2",
                settings: ["authorizationURL": "https://login.corp.example/authorize", "tokenURL": "https://login.corp.example/token"],
                displayName: "Corp SSO"
            )
            try await FormActionPolicyTests.enable(fixture, key: "openai", provider: "openai", displayName: "Team OpenAI")
            let center = try await browser.get("/connections")
            #expect(center.text.contains("Sign in at Corp SSO and choose what to allow."))
            #expect(center.text.contains("Connect with your Team OpenAI API key."))
            #expect(!center.text.contains("Generic OAuth 2.0"))
        }
    }

    /// Each account says when it was connected (date and time) and when it was last used, "never used" until then.
    @Test(arguments: TestDatabases.kinds)
    func eachAccountShowsWhenItWasConnectedAndLastUsed(kind: TestDatabases.Kind) async throws {
        let clock = TestClock(now: Date(timeIntervalSince1970: 1_800_000_000))  // 2027-01-15 08:00:00 UTC
        try await ConnectFlowTests.withWorld(kind, clock: clock) { world in
            let credential = try await Self.connectGitHub(world, account: "octocat")
            var center = try await world.browser.get("/connections")
            #expect(center.text.contains(#"<time class="connected" datetime="2027-01-15T08:00:00Z">2027-01-15 08:00 UTC</time>"#))
            #expect(center.text.contains(#"<span class="last-used">never used</span>"#))
            // An app reads the token 90 minutes later.
            clock.advance(by: 90 * 60 + 30)
            _ = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            center = try await world.browser.get("/connections")
            #expect(center.text.contains(#"<time class="last-used" datetime="2027-01-15T09:30:30Z">2027-01-15 09:30 UTC</time>"#))
            #expect(!center.text.contains("never used"))
        }
    }

    /// Connects GitHub as `account` through the fake provider; returns the stored credential.
    @discardableResult
    static func connectGitHub(_ world: ConnectFlowTests.World, account: String) async throws -> Credential {
        let before = Set(try await ConnectFlowTests.credentials(world).map(\.id))
        let authorize = try await ConnectFlowTests.start(world)
        let callback = try await world.fake.authorize(url: authorize, accountID: account, email: account)
        #expect(try await world.browser.get(WebBrowser.pathAndQuery(callback)).status == .seeOther)
        return try #require(try await ConnectFlowTests.credentials(world).first { !before.contains($0.id) })
    }
}
