import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyMCP
import LatchkeyOAuthClient
import LatchkeyTesting
import NIOCore
import Synchronization
import Testing

/// A verifier that knows a few tokens: `alice-mcp-token` (GitHub granted), `dave-mcp-token` (GitHub granted, nothing
/// connected), `bob-mcp-token`, `noscope-token`, `elsewhere-token` (another resource); anything else is invalid.
struct FakeMCPVerifier: MCPTokenVerifier {
    let tenantID: String

    static let bearers: [String: (user: String, scopes: [String], services: [String])] = [
        "alice-mcp-token": ("alice", ["mcp:tools"], ["github"]),
        "bob-mcp-token": ("bob", ["mcp:tools"], ["github"]),
        "dave-mcp-token": ("dave", ["mcp:tools"], ["github"]),
        "both-mcp-token": ("alice", ["mcp:tools"], ["github", "github-work"]),
        "noscope-token": ("alice", ["openid"], ["github"]),
    ]

    func verify(bearer token: String) async throws -> MCPTokenCheck {
        if token == "elsewhere-token" { return .otherResource }
        if token == "unlucky-token" { throw CancellationError() }
        guard let known = Self.bearers[token] else { return .invalid }
        return .valid(
            MCPPrincipal(
                tenantID: tenantID,
                userID: known.user,
                clientID: "client-1",
                grantID: "grant-\(known.user)",
                scopes: known.scopes,
                services: known.services
            )
        )
    }
}

/// `/mcp` over Streamable HTTP: the bearer challenge, Origin, sessions bound to the person, and the gateway's tools
/// listed and called as that person, in the handshake revisions and in stateless 2026-07-28.
@Suite("MCP endpoint")
struct MCPEndpointTests {
    /// GitHub and Slack set up, alice's GitHub credential imported, an upstream standing in for api.github.com.
    static func with(
        _ kind: TestDatabases.Kind,
        verifier: Bool = true,
        _ run: @Sendable (any TestClientProtocol, TestFixture, Upstream) async throws -> Void
    ) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(OutboundResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data("{}".utf8)))
        await network.route(host: "api.github.com", to: upstream)
        let late = LateVerifier()
        try await TestApp.with(kind, transport: network, mcpTokenVerifier: verifier ? late : nil) { client, fixture in
            late.tenantID.withLock { $0 = fixture.tenantID }
            try await ToolsAPITests.createIntegration(client, fixture.headers, "github")
            try await ToolsAPITests.createIntegration(client, fixture.headers, "slack")
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "type": "oauth2", "accessToken": "alice-secret-token", "externalUserId": "alice"])
            )
            #expect(imported.status == .created)
            try await run(client, fixture, upstream)
        }
    }

    /// The fake verifier for a tenant known only once the app runs.
    final class LateVerifier: MCPTokenVerifier {
        let tenantID = Mutex<String?>(nil)
        func verify(bearer token: String) async throws -> MCPTokenCheck {
            try await FakeMCPVerifier(tenantID: tenantID.withLock { $0 } ?? "").verify(bearer: token)
        }
    }

    static func headers(_ token: String?, session: String? = nil, extra: HTTPFields = [:]) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let session { headers[HTTPField.Name("Mcp-Session-Id")!] = session }
        for field in extra { headers.append(field) }
        return headers
    }

    static func post(
        _ client: any TestClientProtocol,
        _ message: [String: Any],
        token: String? = "alice-mcp-token",
        session: String? = nil,
        uri: String = "/mcp",
        extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var message = message
        message["jsonrpc"] = "2.0"
        return try await client.execute(uri: uri, method: .post, headers: headers(token, session: session, extra: extra), body: try body(message))
    }

    /// `initialize` as `token`; the session id.
    static func initialize(_ client: any TestClientProtocol, token: String = "alice-mcp-token", version: String = "2025-11-25") async throws -> String
    {
        let response = try await post(
            client,
            [
                "id": 1, "method": "initialize",
                "params": ["protocolVersion": version, "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]],
            ],
            token: token
        )
        #expect(response.status == .ok, "\(response.text)")
        #expect(try response.json["result"].flatMap { ($0 as? [String: Any])?["protocolVersion"] as? String } == version)
        let session = try #require(response.headers[HTTPField.Name("Mcp-Session-Id")!])
        let initialized = try await post(client, ["method": "notifications/initialized"], token: token, session: session)
        #expect(initialized.status == .accepted)
        #expect(initialized.body.readableBytes == 0)
        return session
    }

    static func result(_ response: TestResponse) throws -> [String: Any] {
        try #require(try response.json["result"] as? [String: Any], "\(response.text)")
    }

    static func challenge(_ response: TestResponse) -> String { response.headers[HTTPField.Name("WWW-Authenticate")!] ?? "" }

    @Test(arguments: TestDatabases.kinds)
    func withoutATokenTheChallengeLeadsToTheResourceMetadata(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, _ in
            let response = try await Self.post(client, ["id": 1, "method": "initialize", "params": [:]], token: nil)
            #expect(response.status == .unauthorized)
            let publicURL = fixture.runtime.configuration.effectivePublicURL
            #expect(
                Self.challenge(response) == "Bearer resource_metadata=\"\(publicURL)/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\""
            )
            #expect(response.headers[HTTPField.Name("Mcp-Session-Id")!] == nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aBadExpiredOrForeignTokenIsInvalidAndOneWithoutTheScopeInsufficient(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, _, _ in
            for token in ["made-up-token", "elsewhere-token"] {
                let response = try await Self.post(client, ["id": 1, "method": "tools/list"], token: token)
                #expect(response.status == .unauthorized)
                #expect(Self.challenge(response).contains("error=\"invalid_token\""))
                #expect(Self.challenge(response).contains("resource_metadata="))
                #expect(!response.text.contains(token))
            }
            // The token store failing is the server's problem, told as such.
            let failing = try await Self.post(client, ["id": 1, "method": "tools/list"], token: "unlucky-token")
            #expect(failing.status == .serviceUnavailable)
            let narrow = try await Self.post(client, ["id": 1, "method": "tools/list"], token: "noscope-token")
            #expect(narrow.status == .forbidden)
            #expect(Self.challenge(narrow).contains("error=\"insufficient_scope\""))
            #expect(Self.challenge(narrow).contains("scope=\"mcp:tools\""))
        }
    }

    @Test func noBearerTokenEverReachesTheLogs() async throws {
        try await Self.with(.sqlite) { client, fixture, _ in
            let session = try await Self.initialize(client)
            _ = try await Self.post(client, ["id": 2, "method": "tools/list"], session: session)
            _ = try await Self.post(
                client,
                ["id": 3, "method": "tools/call", "params": ["name": "github.get_repo", "arguments": ["owner": "o", "repo": "r"]]],
                session: session
            )
            _ = try await Self.post(client, ["id": 1, "method": "tools/list"], token: "unlucky-token")
            _ = try await Self.post(client, ["id": 1, "method": "tools/list"], uri: "/mcp?access_token=query-secret-token")
            let logs = fixture.logs.text
            #expect(!logs.isEmpty)
            for secret in ["alice-mcp-token", "unlucky-token", "query-secret-token", "alice-secret-token"] {
                #expect(!logs.contains(secret), "\(secret) in the logs")
            }
        }
    }

    @Test func untilAVerifierIsWiredEveryTokenIsRefused() async throws {
        try await Self.with(.sqlite, verifier: false) { client, _, _ in
            let response = try await Self.post(client, ["id": 1, "method": "initialize", "params": [:]])
            #expect(response.status == .unauthorized)
            #expect(Self.challenge(response).contains("error=\"invalid_token\""))
        }
    }

    @Test func aTokenInTheQueryStringIsRefusedEvenWithAHeader() async throws {
        try await Self.with(.sqlite) { client, _, _ in
            let response = try await Self.post(client, ["id": 1, "method": "initialize", "params": [:]], uri: "/mcp?access_token=alice-mcp-token")
            #expect(response.status == .badRequest)
            #expect(Self.challenge(response).contains("error=\"invalid_request\""))
            #expect(response.headers[HTTPField.Name("Mcp-Session-Id")!] == nil)
        }
    }

    @Test func aForeignOriginIsForbiddenAndTheServersOwnOrLoopbackAllowed() async throws {
        try await Self.with(.sqlite) { client, fixture, _ in
            let message: [String: Any] = ["id": 1, "method": "initialize", "params": ["protocolVersion": "2025-06-18"]]
            let foreign = try await Self.post(client, message, extra: [.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            #expect(foreign.headers[HTTPField.Name("Mcp-Session-Id")!] == nil)
            #expect(try await Self.post(client, message, extra: [.origin: "null"]).status == .forbidden)
            // The test server listens on loopback: its own origin and other loopback origins are fine.
            let own = fixture.runtime.configuration.effectivePublicURL
            #expect(try await Self.post(client, message, extra: [.origin: own]).status == .ok)
            #expect(try await Self.post(client, message, extra: [.origin: "http://localhost:6274"]).status == .ok)
            #expect(try await Self.post(client, message).status == .ok)
        }
    }

    @Test func aSessionBelongsToItsUserAndEndsWithDelete() async throws {
        try await Self.with(.sqlite) { client, _, _ in
            let session = try await Self.initialize(client)
            let list: [String: Any] = ["id": 2, "method": "tools/list"]
            #expect(try await Self.post(client, list, session: session).status == .ok)
            // Another person's token with alice's session: not theirs.
            #expect(try await Self.post(client, list, token: "bob-mcp-token", session: session).status == .notFound)
            // A session is never authentication.
            #expect(try await Self.post(client, list, token: nil, session: session).status == .unauthorized)
            #expect(try await Self.post(client, list).status == .badRequest)
            #expect(try await Self.post(client, list, session: "v1.forged").status == .notFound)
            let mismatch = try await Self.post(client, list, session: session, extra: [HTTPField.Name("MCP-Protocol-Version")!: "2025-06-18"])
            #expect(mismatch.status == .badRequest)

            let bobEnds = try await client.execute(uri: "/mcp", method: .delete, headers: Self.headers("bob-mcp-token", session: session))
            #expect(bobEnds.status == .notFound)
            let ended = try await client.execute(uri: "/mcp", method: .delete, headers: Self.headers("alice-mcp-token", session: session))
            #expect(ended.status == .noContent)
            #expect(try await Self.post(client, list, session: session).status == .notFound)

            let get = try await client.execute(uri: "/mcp", method: .get, headers: Self.headers("alice-mcp-token"))
            #expect(get.status == .methodNotAllowed)
            #expect(get.headers[.allow] == "POST, DELETE")
        }
    }

    @Test func aNotificationOfAHandshakeRevisionNeedsALiveSession() async throws {
        try await Self.with(.sqlite) { client, _, _ in
            let note: [String: Any] = ["method": "notifications/cancelled", "params": ["requestId": 1]]
            #expect(try await Self.post(client, note).status == .badRequest)
            #expect(try await Self.post(client, note, session: "v1.forged").status == .notFound)
            let session = try await Self.initialize(client)
            #expect(try await Self.post(client, note, session: session).status == .accepted)
            // A client's answer to a server request is taken without a reply.
            #expect(try await Self.post(client, ["id": 5, "result": [:]], session: session).status == .accepted)
        }
    }

    @Test func aBodyOverTheLimitIsRefused() async throws {
        try await Self.with(.sqlite) { client, _, _ in
            let padding = String(repeating: "a", count: 1_100_000)
            let response = try await client.execute(
                uri: "/mcp",
                method: .post,
                headers: Self.headers("alice-mcp-token"),
                body: body(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"\#(padding)"}}"#)
            )
            #expect(response.status == .contentTooLarge)
        }
    }

    @Test func malformedBodiesGetTheirJSONRPCErrors() async throws {
        try await Self.with(.sqlite) { client, _, _ in
            let parse = try await client.execute(uri: "/mcp", method: .post, headers: Self.headers("alice-mcp-token"), body: body("{not json"))
            #expect(parse.status == .badRequest)
            #expect(try (parse.json["error"] as? [String: Any])?["code"] as? Int == -32700)
            let batch = try await client.execute(
                uri: "/mcp",
                method: .post,
                headers: Self.headers("alice-mcp-token"),
                body: body(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
            )
            #expect(batch.status == .badRequest)
            #expect(try (batch.json["error"] as? [String: Any])?["code"] as? Int == -32600)
            var plain = Self.headers("alice-mcp-token")
            plain[.contentType] = "text/plain"
            let wrongType = try await client.execute(
                uri: "/mcp",
                method: .post,
                headers: plain,
                body: body(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            )
            #expect(wrongType.status == .unsupportedMediaType)
            var html = Self.headers("alice-mcp-token")
            html[.accept] = "text/html"
            let wrongAccept = try await client.execute(
                uri: "/mcp",
                method: .post,
                headers: html,
                body: body(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            )
            #expect(wrongAccept.status == .notAcceptable)
        }
    }
}
