import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
import Testing

/// `tools/list` and `tools/call` through `/mcp`: only the granted services' tools, called as the person through the
/// gateway, failures as tool errors with the link to fix them.
@Suite("MCP tools endpoint")
struct MCPToolsEndpointTests {
    typealias E = MCPEndpointTests

    static func toolNames(_ response: TestResponse) throws -> [String] {
        let tools = try #require(try E.result(response)["tools"] as? [[String: Any]])
        return tools.compactMap { $0["name"] as? String }
    }

    static func stateless(_ method: String, _ params: [String: Any] = [:], version: String = "2026-07-28") -> [String: Any] {
        var params = params
        params["_meta"] = ["io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientCapabilities": [:]]
        return ["id": 9, "method": method, "params": params]
    }

    static func headers2026(_ method: String, name: String? = nil, version: String = "2026-07-28") -> HTTPFields {
        var fields: HTTPFields = [HTTPField.Name("MCP-Protocol-Version")!: version, HTTPField.Name("Mcp-Method")!: method]
        if let name { fields[HTTPField.Name("Mcp-Name")!] = name }
        return fields
    }

    @Test(arguments: TestDatabases.kinds)
    func toolsListShowsOnlyTheGrantedServicesTools(kind: TestDatabases.Kind) async throws {
        try await E.with(kind) { client, _, _ in
            let session = try await E.initialize(client)
            let response = try await E.post(client, ["id": 2, "method": "tools/list"], session: session)
            #expect(response.status == .ok, "\(response.text)")
            let names = try Self.toolNames(response)
            #expect(Set(names) == (try ToolsAPITests.catalogNames("github")))
            #expect(names == names.sorted())
            let tools = try #require(try E.result(response)["tools"] as? [[String: Any]])
            let getRepo = try #require(tools.first { $0["name"] as? String == "github.get_repo" })
            #expect((getRepo["inputSchema"] as? [String: Any])?["type"] as? String == "object")
            #expect((getRepo["annotations"] as? [String: Any])?["readOnlyHint"] as? Bool == true)
            #expect(response.headers[.cacheControl] == "no-store")
        }
    }

    @Test func twoGrantedIntegrationsOfOneProviderGetPrefixedNames() async throws {
        try await E.with(.sqlite) { client, fixture, _ in
            let created = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "github", "key": "github-work", "clientId": "c", "clientSecret": "s"])
            )
            #expect(created.status == .created, "\(created.text)")
            let session = try await E.initialize(client, token: "both-mcp-token")
            let names = try Self.toolNames(try await E.post(client, ["id": 2, "method": "tools/list"], token: "both-mcp-token", session: session))
            #expect(names.contains("github.github.get_repo"))
            #expect(names.contains("github-work.github.get_repo"))
            #expect(!names.contains("github.get_repo"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func toolsCallRunsAsThePersonWithTheirCredential(kind: TestDatabases.Kind) async throws {
        try await E.with(kind) { client, fixture, upstream in
            await upstream.answer(
                OutboundResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data(#"{"id":7,"full_name":"octo/hello"}"#.utf8))
            )
            let session = try await E.initialize(client, version: "2025-06-18")
            let response = try await E.post(
                client,
                ["id": 3, "method": "tools/call", "params": ["name": "github.get_repo", "arguments": ["owner": "octo", "repo": "hello"]]],
                session: session
            )
            let result = try E.result(response)
            #expect(result["isError"] as? Bool == false)
            #expect((result["structuredContent"] as? [String: Any])?["full_name"] as? String == "octo/hello")
            let text = try #require((result["content"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(text.contains("octo/hello"))
            let sent = try #require(await upstream.requests.last)
            #expect(sent.url.absoluteString == "https://api.github.com/repos/octo/hello")
            #expect(sent.headers.contains { $0.name == "Authorization" && $0.value == "Bearer alice-secret-token" })
            // The MCP client's token goes nowhere.
            #expect(!sent.headers.contains { $0.value.contains("alice-mcp-token") })
            // Logged as a tool call of alice, the console app's end user.
            let logged = try RequestLogTests.items(try await RequestLogTests.list(client, fixture, "?kind=tool"))
            try #require(logged.count == 1)
            #expect(logged[0]["tool"] as? String == "github.get_repo")
            #expect(logged[0]["externalUserId"] as? String == "alice")
            #expect(logged[0]["status"] as? Int == 200)
            #expect(logged[0]["credentialId"] as? String != nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aServiceNotConnectedIsAToolErrorWithTheConnectLink(kind: TestDatabases.Kind) async throws {
        try await E.with(kind) { client, fixture, upstream in
            let session = try await E.initialize(client, token: "dave-mcp-token")
            let response = try await E.post(
                client,
                ["id": 3, "method": "tools/call", "params": ["name": "github.get_repo", "arguments": ["owner": "octo", "repo": "hello"]]],
                token: "dave-mcp-token",
                session: session
            )
            #expect(response.status == .ok)
            let result = try E.result(response)
            #expect(result["isError"] as? Bool == true)
            let text = try #require((result["content"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(text.contains(fixture.runtime.configuration.effectivePublicURL + "/connections"))
            #expect(await upstream.requests.isEmpty)
        }
    }

    @Test func badArgumentsAreAToolErrorListingTheFields() async throws {
        try await E.with(.sqlite) { client, _, upstream in
            let session = try await E.initialize(client)
            let response = try await E.post(
                client,
                ["id": 3, "method": "tools/call", "params": ["name": "github.get_repo", "arguments": ["owner": "octo"]]],
                session: session
            )
            let result = try E.result(response)
            #expect(result["isError"] as? Bool == true)
            let text = try #require((result["content"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(text.contains("- repo:"), "\(text)")
            #expect(await upstream.requests.isEmpty)
        }
    }

    @Test func aToolOfAServiceNotGrantedIsInsufficientScope() async throws {
        try await E.with(.sqlite) { client, _, _ in
            let session = try await E.initialize(client)
            let slackTool = try #require(try ToolsAPITests.catalogNames("slack").sorted().first)
            let response = try await E.post(
                client,
                ["id": 4, "method": "tools/call", "params": ["name": slackTool, "arguments": [:]]],
                session: session
            )
            #expect(response.status == .forbidden)
            #expect(E.challenge(response).contains("error=\"insufficient_scope\""))
            let unknown = try await E.post(client, ["id": 5, "method": "tools/call", "params": ["name": "nope.tool"]], session: session)
            #expect(unknown.status == .ok)
            #expect(try (unknown.json["error"] as? [String: Any])?["code"] as? Int == -32602)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func version20260728IsStatelessWithHeadersThatMustMatch(kind: TestDatabases.Kind) async throws {
        try await E.with(kind) { client, _, _ in
            let list = try await E.post(client, Self.stateless("tools/list"), extra: Self.headers2026("tools/list"))
            #expect(list.status == .ok, "\(list.text)")
            #expect(list.headers[HTTPField.Name("Mcp-Session-Id")!] == nil)
            let result = try E.result(list)
            #expect(result["resultType"] as? String == "complete")
            #expect(result["cacheScope"] as? String == "private")
            #expect(Set(try Self.toolNames(list)) == (try ToolsAPITests.catalogNames("github")))

            let discover = try await E.post(client, Self.stateless("server/discover"), extra: Self.headers2026("server/discover"))
            #expect(try E.result(discover)["supportedVersions"] as? [String] == ["2026-07-28", "2025-11-25", "2025-06-18"])

            let call = Self.stateless("tools/call", ["name": "github.get_repo", "arguments": ["owner": "o", "repo": "r"]])
            let mismatch = try await E.post(client, call, extra: Self.headers2026("tools/call", name: "github.list_repos"))
            #expect(mismatch.status == .badRequest)
            #expect(try (mismatch.json["error"] as? [String: Any])?["code"] as? Int == -32020)

            let future = try await E.post(
                client,
                Self.stateless("tools/list", version: "2099-01-01"),
                extra: Self.headers2026("tools/list", version: "2099-01-01")
            )
            #expect(future.status == .badRequest)
            let error = try #require(try future.json["error"] as? [String: Any])
            #expect(error["code"] as? Int == -32022)
            #expect((error["data"] as? [String: Any])?["supported"] as? [String] == ["2026-07-28", "2025-11-25", "2025-06-18"])

            let missing = try await E.post(client, Self.stateless("resources/list"), extra: Self.headers2026("resources/list"))
            #expect(missing.status == .notFound)
            #expect(try (missing.json["error"] as? [String: Any])?["code"] as? Int == -32601)
        }
    }
}
