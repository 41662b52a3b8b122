import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// GitHub's API host for sign-in: the fake provider's `/user`, and `/user/emails` with the addresses the test sets.
actor GitHubEmailsAPI: HTTPTransport {
    let fake: FakeProvider
    private var emails: [[String: Any]]

    init(fake: FakeProvider, emails: [[String: Any]]) {
        self.fake = fake
        self.emails = emails
    }

    func setEmails(_ list: [[String: Any]]) { emails = list }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        guard request.url.path == "/user/emails" else { return try await fake.send(request) }
        guard request.header("Authorization")?.hasPrefix("Bearer ") == true else { return OutboundResponse(status: 401) }
        return SigningIdentityProvider.json(emails)
    }
}

/// Social sign-in with the catalog's GitHub (no OpenID Connect): the person is GitHub's numeric user id, and a new
/// account takes the primary verified address of `/user/emails`, not the profile's public one.
@Suite("GitHub sign-in")
struct GitHubSignInTests {
    @Test(arguments: TestDatabases.kinds)
    func gitHubSignsInANewPersonByTheirPrimaryVerifiedAddress(kind: TestDatabases.Kind) async throws {
        let provider = try #require(SingleSignOnWorld.catalog.provider(id: "github"))
        let fake = try FakeProvider(provider: provider)
        let api = GitHubEmailsAPI(
            fake: fake,
            emails: [
                ["email": "octo@old.example", "primary": false, "verified": true],
                ["email": "Octo@Example.com", "primary": true, "verified": true],
            ]
        )
        let network = FakeNetwork([fake])
        await network.route(host: "api.github.com", to: api)
        try await TestApp.with(kind, transport: network) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "github", provider: "github", clientID: "fake-client-id", clientSecret: "fake-client-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let enabled = try await client.execute(
                uri: "/api/v1/sign-in/providers/github",
                method: .put,
                headers: fixture.headers,
                body: try body(["enabled": true, "createUsers": true, "allowedDomains": ["example.com"]])
            )
            #expect(enabled.status == .ok, "\(enabled.text)")
            #expect(try enabled.json["kind"] as? String == "social")

            // The profile's public address is not the one that counts.
            let browser = WebBrowser(client)
            let login = try await browser.get("/login")
            #expect(login.text.contains("Sign in with GitHub"))
            let started = try await browser.get("/login/sso/github?next=/connections")
            let authorize = try #require(started.location.flatMap(URL.init(string:)))
            #expect(authorize.host == "github.com")
            let callback = try await fake.authorize(url: authorize, accountID: "4242", email: "octo@public.example")
            let done = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(done.status == .seeOther, "\(done.text)")
            #expect(done.location == "/connections")
            let octo = try #require(try await fixture.runtime.tenants.users.user(email: "octo@example.com", tenantID: fixture.tenantID))
            let identities = try await IdentityRepository(database: fixture.runtime.database).identities(
                userID: octo.user.id,
                tenantID: fixture.tenantID
            )
            #expect(identities.map(\.method) == [.social] && identities.map(\.provider) == ["github"] && identities.map(\.subject) == ["4242"])

            // Without a primary verified address GitHub vouches for no address: no account is made.
            await api.setEmails([["email": "new@example.com", "primary": true, "verified": false]])
            let stranger = WebBrowser(client)
            let second = try await stranger.get("/login/sso/github?next=/connections")
            let again = try await fake.authorize(
                url: try #require(second.location.flatMap(URL.init(string:))),
                accountID: "5151",
                email: "new@example.com"
            )
            let refused = try await stranger.get(WebBrowser.pathAndQuery(again))
            #expect(refused.status == .forbidden, "\(refused.text)")
            #expect(refused.text.contains("GitHub did not confirm an email address"))
            #expect(try await fixture.runtime.tenants.users.list(tenantID: fixture.tenantID).count == 1)
        }
    }
}
