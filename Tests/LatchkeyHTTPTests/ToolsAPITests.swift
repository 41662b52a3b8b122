import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// `GET /api/v1/tools`: the tools of the caller's integrations, and whether an end user has connected their service.
@Suite("Tools API")
struct ToolsAPITests {
    static func createIntegration(_ client: any TestClientProtocol, _ headers: HTTPFields, _ provider: String) async throws {
        let created = try await client.execute(
            uri: "/api/v1/integrations",
            method: .post,
            headers: headers,
            body: try body(["provider": provider, "clientId": "client-\(provider)", "clientSecret": "secret-\(provider)"])
        )
        #expect(created.status == .created, "\(created.text)")
    }

    static func tools(_ client: any TestClientProtocol, _ headers: HTTPFields, uri: String = "/api/v1/tools") async throws -> [[String: Any]] {
        let response = try await client.execute(uri: uri, method: .get, headers: headers)
        #expect(response.status == .ok, "\(response.text)")
        return try #require(try response.json["items"] as? [[String: Any]])
    }

    static func names(_ items: [[String: Any]]) -> Set<String> { Set(items.compactMap { $0["name"] as? String }) }

    static func catalogNames(_ provider: String) throws -> Set<String> {
        Set(try #require(try ProviderCatalog.bundled().provider(id: provider)?.tools).map(\.name))
    }

    @Test(arguments: TestDatabases.kinds)
    func listsTheToolsOfTheCallersEnabledIntegrationsOnly(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            for provider in ["github", "slack", "linear"] { try await Self.createIntegration(client, fixture.headers, provider) }
            let disabled = try await client.execute(
                uri: "/api/v1/integrations/linear",
                method: .patch,
                headers: fixture.headers,
                body: try body(["enabled": false])
            )
            #expect(disabled.status == .ok)
            // Another tenant's integration is never listed here.
            let other = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme", actor: .cli)
            let (_, otherKey) = try await fixture.runtime.tenants.createAdminKey(tenantID: other.id, name: "acme", actor: .cli)
            let otherHeaders: HTTPFields = [.authorization: "Bearer \(otherKey)", .contentType: "application/json"]
            try await Self.createIntegration(client, otherHeaders, "notion")

            let items = try await Self.tools(client, fixture.headers)
            #expect(Self.names(items) == (try Self.catalogNames("github")).union(try Self.catalogNames("slack")))
            let repo = try #require(items.first { $0["name"] as? String == "github.get_repo" })
            #expect(repo["integration"] as? String == "github")
            #expect(repo["readOnly"] as? Bool == true)
            #expect(repo["title"] as? String == "Get a repository")
            #expect((repo["description"] as? String)?.isEmpty == false)
            #expect(repo["connected"] == nil)
            let schema = try #require(repo["inputSchema"] as? [String: Any])
            #expect(schema["type"] as? String == "object")
            #expect(schema["additionalProperties"] as? Bool == false)
            #expect(Set(try #require(schema["required"] as? [String])) == ["owner", "repo"])
            #expect((schema["properties"] as? [String: Any])?["owner"] != nil)
            #expect(items.first { $0["name"] as? String == "slack.post_message" }?["readOnly"] as? Bool == false)

            #expect(Self.names(try await Self.tools(client, otherHeaders)) == (try Self.catalogNames("notion")))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppKeySeesOnlyTheIntegrationsItMayUse(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            for provider in ["github", "slack"] { try await Self.createIntegration(client, fixture.headers, provider) }
            let (_, limitedKey) = try await AppsAPITests.createApp(
                client,
                fixture,
                ["name": "Slack bot", "permissions": ["integrations": ["slack"], "operations": ["tokens", "proxy"]]]
            )
            #expect(Self.names(try await Self.tools(client, AppsAPITests.appHeaders(limitedKey))) == (try Self.catalogNames("slack")))
            let (_, everyKey) = try await AppsAPITests.createApp(client, fixture, ["name": "Everything"])
            #expect(Self.names(try await Self.tools(client, AppsAPITests.appHeaders(everyKey))).contains("github.list_repos"))

            // An app whose key may not call tools is told so, and the refusal is audited.
            let (_, tokensKey) = try await AppsAPITests.createApp(
                client,
                fixture,
                ["name": "Tokens only", "permissions": ["operations": ["tokens"]]]
            )
            let refused = try await client.execute(uri: "/api/v1/tools", method: .get, headers: AppsAPITests.appHeaders(tokensKey))
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("proxy"))
            #expect(try await AppsAPITests.auditActions(client, fixture, "app.access_denied").count == 1)
            #expect(try await client.execute(uri: "/api/v1/tools", method: .get).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func marksTheToolsAnEndUserHasNotConnected(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            for provider in ["github", "slack"] { try await Self.createIntegration(client, fixture.headers, provider) }
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "type": "oauth2", "accessToken": "gho_alice_token", "externalUserId": "alice"])
            )
            #expect(imported.status == .created)

            let alice = try await client.execute(uri: "/api/v1/tools?externalUserId=alice", method: .get, headers: fixture.headers)
            #expect(!alice.text.contains("gho_alice_token"))
            let items = try #require(try alice.json["items"] as? [[String: Any]])
            #expect(!items.isEmpty)
            for item in items {
                #expect(item["connected"] as? Bool == (item["integration"] as? String == "github"), "\(item["name"] ?? "")")
            }
            let bob = try await Self.tools(client, fixture.headers, uri: "/api/v1/tools?externalUserId=bob")
            #expect(bob.allSatisfy { $0["connected"] as? Bool == false })
            // The console's credential is not an app's: for an app, alice has connected nothing.
            let (_, appKey) = try await AppsAPITests.createApp(client, fixture, ["name": "Agent"])
            let forApp = try await Self.tools(client, AppsAPITests.appHeaders(appKey), uri: "/api/v1/tools?externalUserId=alice")
            #expect(forApp.allSatisfy { $0["connected"] as? Bool == false })
            // Looking is not a hand-out: no token use is audited.
            #expect(try await AppsAPITests.auditActions(client, fixture, "credential.token").isEmpty)

            let long = String(repeating: "x", count: 256)
            let tooLong = try await client.execute(uri: "/api/v1/tools?externalUserId=\(long)", method: .get, headers: fixture.headers)
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.text.contains("externalUserId"))
            // Length is counted in code points, as the API description's maxLength counts it (256 skin-tone
            // modifiers make fewer than 256 Swift characters).
            let modifiers = String(repeating: "\u{1F3FB}", count: 256).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let tooManyCodePoints = try await client.execute(uri: "/api/v1/tools?externalUserId=\(modifiers)", method: .get, headers: fixture.headers)
            #expect(tooManyCodePoints.status == .badRequest)
            let empty = try await client.execute(uri: "/api/v1/tools?externalUserId=", method: .get, headers: fixture.headers)
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains("externalUserId"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theDemoSandboxIntegrationOffersItsThreeTools(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            // As `serve --demo` sets it up: the `sandbox` provider, its endpoints given on the integration.
            try await TestIntegrations.sandbox(fixture, base: "https://latchkey.example/sandbox", scopes: ["profile", "items.read"])
            let items = try await Self.tools(client, fixture.headers, uri: "/api/v1/tools?externalUserId=sarah@example.com")
            #expect(items.compactMap { $0["name"] as? String } == ["sandbox.find_item", "sandbox.get_profile", "sandbox.list_items"])
            #expect(items.allSatisfy { $0["integration"] as? String == "sandbox" && $0["connected"] as? Bool == false })
            #expect(items.map { $0["scopes"] as? [String] ?? [] } == [["items.read"], ["profile"], ["items.read"]])
            // The one that answers from synced data says which dataset it reads.
            #expect(items.map { $0["dataset"] as? String } == ["sandbox.items", nil, nil])
        }
    }
}
