import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
import Testing

/// A bot's tool calls and proxy requests that name its user's account (`identity`, or the `Latchkey-Identity-*`
/// headers) instead of an end user: `link_required` until the person links it, then they act as that person with
/// what the person connected in the Connection Center.
@Suite("Identity in tool calls and the proxy")
struct IdentityCallTests {
    static var identity: [String: Any] { ["provider": "slack", "subject": "T1/U2"] }

    static func invoke(
        _ client: any TestClientProtocol,
        _ headers: HTTPFields,
        _ extra: [String: Any] = ["identity": identity]
    )
        async throws -> TestResponse
    {
        var object: [String: Any] = ["tool": "github.get_repo", "input": ["owner": "octo", "repo": "hello"]]
        object.merge(extra) { _, new in new }
        return try await ToolInvokeAPITests.invoke(client, headers, object)
    }

    static func proxy(_ client: any TestClientProtocol, _ key: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/proxy/github/user",
            method: .get,
            headers: [
                .authorization: "Bearer \(key)", HTTPField.Name("Latchkey-Identity-Provider")!: "slack",
                HTTPField.Name("Latchkey-Identity-Subject")!: "T1/U2",
            ]
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func aLinkedIdentityActsAsThePersonWithWhatTheyConnected(kind: TestDatabases.Kind) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(OutboundResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data(#"{"id":7}"#.utf8)))
        await network.route(host: "api.github.com", to: upstream)
        try await TestApp.with(kind, transport: network) { client, fixture in
            try await ToolsAPITests.createIntegration(client, fixture.headers, "github")
            let (_, key) = try await AppsAPITests.createApp(client, fixture, ["name": "Slack bot"])
            let bot = AppsAPITests.appHeaders(key)

            // Not linked yet: told to link, on the tool route and the proxy alike.
            let code = try LinkCodeTests.code(of: try await Self.invoke(client, bot))
            _ = try LinkCodeTests.code(of: try await Self.proxy(client, key))
            // Both ways of naming the user, or an identity with an admin key: refused before anything happens.
            let both = try await Self.invoke(client, bot, ["identity": Self.identity, "externalUserId": "alice"])
            #expect(both.status == .badRequest)
            #expect(try ToolInvokeAPITests.error(both)["message"] as? String == "Name the user either by an identity or by an end user id, not both.")
            let admin = try await Self.invoke(client, fixture.headers)
            #expect(admin.status == .forbidden)
            #expect((try ToolInvokeAPITests.error(admin)["message"] as? String)?.hasPrefix("An identity is vouched for by an app") == true)
            let invalid = try await Self.invoke(client, bot, ["identity": ["provider": "slack"]])
            #expect(invalid.status == .badRequest)
            #expect((try ToolInvokeAPITests.error(invalid)["fields"] as? [[String: Any]])?.first?["path"] as? String == "identity.subject")

            let (alice, browser) = try await LinkCodeTests.alice(client, fixture)
            #expect(try await browser.post("/link", ["code": code]).status == .seeOther)
            // Linked, but Alice has connected nothing: she is sent to her Connection Center.
            let notConnected = try await Self.invoke(client, bot)
            #expect(notConnected.status == .conflict, "\(notConnected.text)")
            let error = try ToolInvokeAPITests.error(notConnected)
            #expect(error["code"] as? String == "not_connected")
            #expect((error["action"] as? [String: Any])?["url"] as? String == "http://127.0.0.1:0/connections")
            #expect(await upstream.requests.isEmpty)

            // Alice's own GitHub account, as the Connection Center keeps it (the console's end user named by her id).
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "integration": "github", "type": "oauth2", "accessToken": "alice-own-token", "externalUserId": alice.id,
                    "scopes": ["repo", "read:user"],
                ])
            )
            #expect(imported.status == .created, "\(imported.text)")
            let ran = try await Self.invoke(client, bot)
            #expect(ran.status == .ok, "\(ran.text)")
            #expect(try ran.json["result"] as? [String: Any] as NSDictionary? == ["id": 7])
            let sent = try #require(await upstream.requests.last)
            #expect(sent.headers.contains { $0.name == "Authorization" && $0.value == "Bearer alice-own-token" })
            let relayed = try await Self.proxy(client, key)
            #expect(relayed.status == .ok, "\(relayed.text)")
            let proxied = try #require(await upstream.requests.last)
            #expect(proxied.url.absoluteString == "https://api.github.com/user")
            #expect(proxied.headers.contains { $0.name == "Authorization" && $0.value == "Bearer alice-own-token" })
            #expect(!proxied.headers.contains { $0.name.lowercased().hasPrefix("latchkey-") })
            // The token itself is not handed out on an app's word about a chat account: only tools and the proxy act for it.
            let token = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: bot,
                body: try body(["integration": "github", "identity": Self.identity])
            )
            #expect(token.status == .badRequest, "\(token.text)")
            #expect((try ToolInvokeAPITests.error(token)["fields"] as? [[String: Any]])?.first?["path"] as? String == "identity")
            #expect(!token.text.contains("alice-own-token"))
        }
    }
}
