import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyProviders
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
            #expect(center.text.contains(#"<span class="last-used">Never used</span>"#))
            // An app reads the token 90 minutes later.
            clock.advance(by: 90 * 60 + 30)
            _ = try await world.fixture.runtime.vault.reveal(id: credential.id, tenantID: world.fixture.tenantID, actor: .cli)
            center = try await world.browser.get("/connections")
            #expect(center.text.contains(#"<time class="last-used" datetime="2027-01-15T09:30:30Z">2027-01-15 09:30 UTC</time>"#))
            #expect(!center.text.contains("Never used"))
        }
    }

    /// A label the person sets on their own account: shown on the tile, stored through the vault's update and audited
    /// as them (like the API's PATCH); emptying the field removes it.
    @Test(arguments: TestDatabases.kinds)
    func aPersonLabelsTheirAccount(kind: TestDatabases.Kind) async throws {
        try await ConnectFlowTests.withWorld(kind) { world in
            let credential = try await Self.connectGitHub(world, account: "octocat@example.com")
            let center = try await world.browser.get("/connections")
            #expect(center.text.contains(#"<form method="post" action="/connections/\#(credential.id)/label""#))
            #expect(center.text.contains(#"<label for="label-\#(credential.id)">Label"#))
            let saved = try await world.browser.post("/connections/\(credential.id)/label", ["label": "  Work laptop "])
            #expect(saved.status == .seeOther && saved.location == "/connections")
            let labelled = try await world.browser.get("/connections")
            #expect(labelled.text.contains("Your GitHub account octocat@example.com is now labelled “Work laptop”."))
            #expect(labelled.text.contains(#"<span class="label">· Work laptop</span>"#))
            #expect(labelled.text.contains(#"value="Work laptop""#))
            #expect(try await ConnectFlowTests.credentials(world).first?.label == "Work laptop")
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            #expect(
                events.contains {
                    $0.action == "credential.update" && $0.actor == "user:\(world.user.id)" && $0.target == credential.id
                        && $0.details["fields"] == "label"
                }
            )
            // An empty field removes the label.
            _ = try await world.browser.post("/connections/\(credential.id)/label", ["label": ""])
            #expect(try await world.browser.get("/connections").text.contains("The label of your GitHub account octocat@example.com was removed."))
            #expect(try await ConnectFlowTests.credentials(world).first?.label == nil)
        }
    }

    /// Too long or with a control character: the page again with 400, the error beside the field, what was typed
    /// kept, and nothing stored.
    @Test(arguments: TestDatabases.kinds)
    func aBadLabelIsRefusedBesideItsFieldWithTheTypedValueKept(kind: TestDatabases.Kind) async throws {
        try await ConnectFlowTests.withWorld(kind) { world in
            let credential = try await Self.connectGitHub(world, account: "octocat@example.com")
            _ = try await world.browser.get("/connections")
            let long = String(repeating: "x", count: 201)
            let tooLong = try await world.browser.post("/connections/\(credential.id)/label", ["label": long])
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.text.contains(#"role="alert""#) && tooLong.text.contains("The label was not saved."))
            #expect(tooLong.text.contains("Keep the label to 200 characters or fewer (it has 201)."))
            #expect(
                tooLong.text.contains(
                    #"value="\#(long)" aria-invalid="true" aria-describedby="label-error-\#(credential.id)" autofocus>"#
                )
            )
            #expect(tooLong.text.contains(#"<p class="field-error" id="label-error-\#(credential.id)">"#))
            let control = try await world.browser.post("/connections/\(credential.id)/label", ["label": "Work\u{7}laptop"])
            #expect(control.status == .badRequest)
            #expect(control.text.contains("cannot hold line breaks, tabs or other control characters"))
            let tab = try await world.browser.post("/connections/\(credential.id)/label", ["label": "Work\tlaptop"])
            #expect(tab.status == .badRequest)
            // Without the page's CSRF token nothing is stored either.
            #expect(try await world.browser.post("/connections/\(credential.id)/label", ["label": "Work"], csrf: false).status == .forbidden)
            #expect(try await ConnectFlowTests.credentials(world).first?.label == credential.label)
        }
    }

    /// Another person's account, or an id that is not one: not found, and nothing changes.
    @Test func anotherPersonsAccountCannotBeLabelled() async throws {
        try await ConnectFlowTests.withWorld { world in
            let credential = try await Self.connectGitHub(world, account: "octocat@example.com")
            _ = try await TestUsers.create(world.fixture, email: "bob@example.com")
            let bob = WebBrowser(world.browser.client)
            #expect(try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery").status == .seeOther)
            _ = try await bob.get("/connections")
            #expect(try await bob.post("/connections/\(credential.id)/label", ["label": "Mine now"]).status == .notFound)
            #expect(try await bob.post("/connections/\(credential.id)/label", ["label": String(repeating: "x", count: 201)]).status == .notFound)
            #expect(try await bob.post("/connections/\(UUID().uuidString.lowercased())/label", ["label": "x"]).status == .notFound)
            #expect(try await ConnectFlowTests.credentials(world).first?.label == credential.label)
        }
    }

    /// With two accounts of a service, the default one says "Used by default" and the other offers "Use by default",
    /// which switches it through the vault's update (audited as the person); with one account there is no choice.
    @Test(arguments: TestDatabases.kinds)
    func aPersonChoosesWhichAccountIsUsedByDefault(kind: TestDatabases.Kind) async throws {
        try await ConnectFlowTests.withWorld(kind) { world in
            let first = try await Self.connectGitHub(world, account: "work@example.com")
            var center = try await world.browser.get("/connections")
            #expect(!center.text.contains("by default") && !center.text.contains("default<"))
            let second = try await Self.connectGitHub(world, account: "home@example.com")
            center = try await world.browser.get("/connections")
            #expect(!center.text.contains("· default"))
            #expect(center.text.components(separatedBy: "Used by default").count == 2)
            #expect(Self.tile(first.id, in: center.text).contains(#"<strong class="default">Used by default</strong>"#))
            #expect(Self.tile(second.id, in: center.text).contains(#"action="/connections/\#(second.id)/default""#))
            #expect(!Self.tile(first.id, in: center.text).contains("/default"))
            let chosen = try await world.browser.post("/connections/\(second.id)/default")
            #expect(chosen.status == .seeOther && chosen.location == "/connections")
            center = try await world.browser.get("/connections")
            #expect(center.text.contains("Your GitHub account home@example.com is now used by default."))
            #expect(Self.tile(second.id, in: center.text).contains("Used by default"))
            #expect(Self.tile(first.id, in: center.text).contains(#"action="/connections/\#(first.id)/default""#))
            #expect(try await ConnectFlowTests.credentials(world).filter(\.isDefault).map(\.id) == [second.id])
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            #expect(
                events.contains { $0.action == "credential.update" && $0.actor == "user:\(world.user.id)" && $0.details["fields"] == "isDefault" }
            )
            // Someone else's account: not found, nothing changes.
            _ = try await TestUsers.create(world.fixture, email: "bob@example.com")
            let bob = WebBrowser(world.browser.client)
            _ = try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery")
            _ = try await bob.get("/connections")
            #expect(try await bob.post("/connections/\(first.id)/default").status == .notFound)
            #expect(try await ConnectFlowTests.credentials(world).filter(\.isDefault).map(\.id) == [second.id])
        }
    }

    /// Disconnect on the Connection Center is a destructive-looking link to a confirmation page; its button posts the
    /// Disconnect, and the one-time message names the account.
    @Test(arguments: TestDatabases.kinds)
    func disconnectAsksForConfirmationAndNamesTheAccount(kind: TestDatabases.Kind) async throws {
        try await ConnectFlowTests.withWorld(kind) { world in
            let credential = try await Self.connectGitHub(world, account: "octocat@example.com")
            let center = try await world.browser.get("/connections")
            let tile = Self.tile(credential.id, in: center.text)
            #expect(tile.contains(#"<a class="button danger disconnect" href="/connections/\#(credential.id)/disconnect">Disconnect…</a>"#))
            #expect(!tile.contains(#"<form method="post" action="/connections/\#(credential.id)/disconnect""#))
            let confirm = try await world.browser.get("/connections/\(credential.id)/disconnect")
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains("<title>Disconnect GitHub account octocat@example.com · Latchkey</title>"))
            #expect(confirm.text.contains(#"<h1 id="heading">Disconnect GitHub account octocat@example.com?</h1>"#))
            #expect(confirm.text.contains(#"<form method="post" action="/connections/\#(credential.id)/disconnect">"#))
            #expect(confirm.text.contains(#"<button type="submit" class="danger" id="confirm-disconnect">Disconnect</button>"#))
            #expect(confirm.text.contains(#"href="/connections">Keep it connected</a>"#))
            // Looking at the page changes nothing.
            #expect(try await ConnectFlowTests.credentials(world).count == 1)
            // Someone else cannot see it.
            _ = try await TestUsers.create(world.fixture, email: "bob@example.com")
            let bob = WebBrowser(world.browser.client)
            _ = try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery")
            #expect(try await bob.get("/connections/\(credential.id)/disconnect").status == .notFound)
            let done = try await world.browser.post("/connections/\(credential.id)/disconnect")
            #expect(done.status == .seeOther && done.location == "/connections")
            #expect(try await world.browser.get("/connections").text.contains("GitHub account octocat@example.com disconnected."))
            #expect(!(try await world.browser.get("/connections").text.contains("disconnected.")))
            #expect(try await ConnectFlowTests.credentials(world).isEmpty)
            #expect(try await world.browser.get("/connections/\(credential.id)/disconnect").status == .notFound)
        }
    }

    /// Each service tile shows the provider's monogram and its documentation link from the catalog; accounts and
    /// services are laid out as grids whose tiles keep their buttons at the bottom.
    @Test func serviceTilesShowAMonogramAndTheCatalogsDocumentationLink() async throws {
        try await ConnectFlowTests.withWorld { world in
            try await FormActionPolicyTests.enable(world.fixture, key: "openai", provider: "openai", displayName: "Team OpenAI")
            try await Self.connectGitHub(world, account: "octocat@example.com")
            let center = try await world.browser.get("/connections")
            let github = try #require(ConnectFlowTests.catalog.provider(id: "github"))
            let openai = try #require(ConnectFlowTests.catalog.provider(id: "openai"))
            #expect(github.docsURL.hasPrefix("https://") && openai.docsURL.hasPrefix("https://"))
            let githubTile = Self.serviceTile("github", in: center.text)
            #expect(githubTile.contains(#"<span class="badge" aria-hidden="true">G</span>GitHub</h3>"#))
            #expect(githubTile.contains(#"<a class="docs" href="\#(github.docsURL)" rel="noopener noreferrer">GitHub documentation</a>"#))
            let openaiTile = Self.serviceTile("openai", in: center.text)
            #expect(openaiTile.contains(#"<span class="badge" aria-hidden="true">T</span>Team OpenAI</h3>"#))
            #expect(openaiTile.contains(#"href="\#(openai.docsURL)" rel="noopener noreferrer">Team OpenAI documentation</a>"#))
            #expect(openaiTile.contains(#"<form method="post" action="/connections/openai/connect" class="tile-end">"#))
            #expect(center.text.contains(#"<ul class="grid accounts">"#) && center.text.contains(#"<ul class="grid services">"#))
            #expect(center.text.contains("/* Connection Center */") && center.text.contains(".tile .tile-end { margin-top: auto; }"))
        }
    }

    /// The HTML of one service's tile on the Connection Center.
    static func serviceTile(_ key: String, in page: String) -> String {
        guard let start = page.range(of: #"<li class="service tile" data-integration="\#(key)">"#) else { return "" }
        let rest = page[start.upperBound...]
        return String(rest[..<(rest.range(of: "</form>")?.upperBound ?? rest.endIndex)])
    }

    /// The HTML of one account's tile on the Connection Center.
    static func tile(_ id: String, in page: String) -> String {
        guard let start = page.range(of: #"data-credential-id="\#(id)""#) else { return "" }
        let rest = page[start.upperBound...]
        return String(rest[..<(rest.range(of: "</li>\n<li")?.lowerBound ?? rest.range(of: "</ul>\n</section>")?.lowerBound ?? rest.endIndex)])
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
