import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// *Try a tool* in the Connection Center, and the reconnect that asks for the scopes a tool is missing.
@Suite("Connection Center tools")
struct ConnectionToolsPageTests {
    /// Alice signed in, the sandbox integration (asking for `profile` only) and her sandbox credential with
    /// `scopes`; the sandbox API is an upstream at sandbox.example.
    static func with(
        _ kind: TestDatabases.Kind,
        scopes: [String],
        _ run: @Sendable (WebBrowser, TestFixture, Upstream, String) async throws -> Void
    ) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(
            OutboundResponse(
                status: 200,
                headers: [("Content-Type", "application/json")],
                body: Data(#"{"items":[{"id":1,"title":"Buy milk","done":false,"owner":"hidden-owner"}]}"#.utf8)
            )
        )
        await network.route(host: "sandbox.example", to: upstream)
        try await TestApp.with(kind, transport: network) { client, fixture in
            try await TestIntegrations.sandbox(fixture)
            let user = try await TestUsers.create(fixture, email: "alice@example.com")
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "integration": "sandbox", "type": "oauth2", "accessToken": "sandbox-alice-token", "externalUserId": user.id, "scopes": scopes,
                ])
            )
            #expect(imported.status == .created, "\(imported.text)")
            let credentialID = try #require(try imported.json["id"] as? String)
            let browser = WebBrowser(client)
            #expect(try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery").status == .seeOther)
            try await run(browser, fixture, upstream, credentialID)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPersonTriesAToolOnTheirAccountAndSeesItsShapedJSON(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind, scopes: ["profile", "items.read"]) { browser, _, upstream, id in
            let center = try await browser.get("/connections")
            #expect(center.text.contains(#"action="/connections/\#(id)/tools""#))
            #expect(center.text.contains(#"<option value="sandbox.list_items">List my sandbox to-do items</option>"#))

            let page = try await browser.post("/connections/\(id)/tools", ["tool": "sandbox.list_items"])
            #expect(page.status == .ok)
            #expect(page.text.contains("Buy milk") && page.text.contains("HTTP 200 from Sandbox"))
            #expect(!page.text.contains("hidden-owner") && !page.text.contains("sandbox-alice-token"))
            let sent = try #require(await upstream.requests.last)
            #expect(sent.url.absoluteString == "https://sandbox.example/api/items")

            // Only a tool of this account that needs no input, only on one's own account, only with the form's token.
            #expect(try await browser.post("/connections/\(id)/tools", ["tool": "github.list_repos"]).status == .badRequest)
            #expect(try await browser.post("/connections/\(UUID().uuidString)/tools", ["tool": "sandbox.list_items"]).status == .notFound)
            #expect(try await browser.post("/connections/\(id)/tools", ["tool": "sandbox.list_items"], csrf: false).status == .forbidden)
            #expect(await upstream.requests.count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aMissingScopeLeadsToAReconnectThatAsksForIt(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind, scopes: ["profile"]) { browser, _, upstream, id in
            _ = try await browser.get("/connections")
            let refused = try await browser.post("/connections/\(id)/tools", ["tool": "sandbox.list_items"])
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains(#"data-code="insufficient_scope""#))
            #expect(await upstream.requests.isEmpty)
            let link = try #require(refused.text.firstMatch(of: /href="([^"]+)" id="tool-action"/)?.output.1)
            let url = try #require(URL(string: String(link).replacingOccurrences(of: "&amp;", with: "&")))
            #expect(url.scheme == "http" || url.scheme == "https")
            #expect(url.path == "/connections" && url.query == "reconnect=\(id)&scopes=items.read")

            // The Connection Center offers the reconnect with the missing permission named in words.
            let center = try await browser.get(WebBrowser.pathAndQuery(url))
            #expect(center.text.contains("Read your sandbox to-do items"))
            #expect(center.text.contains(#"<input type="hidden" name="scopes" value="items.read">"#))
            // Nothing is offered for a scope the provider does not describe.
            #expect(!(try await browser.get("/connections?reconnect=\(id)&scopes=admin")).text.contains("reconnect-wider"))

            let reconnect = try await browser.post("/connections/\(id)/reconnect", ["scopes": "items.read"])
            #expect(reconnect.status == .seeOther)
            let authorize = try #require(reconnect.location.flatMap(URLComponents.init(string:)))
            #expect(authorize.host == "sandbox.example")
            let scope = try #require(authorize.queryItems?.first { $0.name == "scope" }?.value)
            #expect(Set(scope.split(separator: " ").map(String.init)) == ["profile", "items.read"])
            // Without the field, a reconnect asks for what the integration asks for.
            let plain = try await browser.post("/connections/\(id)/reconnect")
            #expect(plain.location.flatMap(URLComponents.init(string:))?.queryItems?.first { $0.name == "scope" }?.value == "profile")
        }
    }
}
