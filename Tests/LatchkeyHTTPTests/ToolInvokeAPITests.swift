import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
import Testing

/// `POST /api/v1/tools/invoke`: a catalog tool called as an end user through the proxy, its answer shaped, and every
/// way it can fail told as DESIGN §6 says.
@Suite("Tool invoke API")
struct ToolInvokeAPITests {
    /// A GitHub integration with alice's credential (every scope) and carol's (`read:user` only), and an upstream
    /// standing in for api.github.com.
    static func with(
        _ kind: TestDatabases.Kind,
        _ run: @Sendable (any TestClientProtocol, TestFixture, Upstream) async throws -> Void
    ) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(OutboundResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data("{}".utf8)))
        await network.route(host: "api.github.com", to: upstream)
        try await TestApp.with(kind, transport: network) { client, fixture in
            try await ToolsAPITests.createIntegration(client, fixture.headers, "github")
            for (user, token, scopes) in [("alice", "alice-secret-token", ["repo", "read:user"]), ("carol", "carol-secret-token", ["read:user"])] {
                let imported = try await client.execute(
                    uri: "/api/v1/credentials",
                    method: .post,
                    headers: fixture.headers,
                    body: try body(["integration": "github", "type": "oauth2", "accessToken": token, "externalUserId": user, "scopes": scopes])
                )
                #expect(imported.status == .created)
            }
            try await run(client, fixture, upstream)
        }
    }

    static func invoke(_ client: any TestClientProtocol, _ headers: HTTPFields, _ object: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/tools/invoke", method: .post, headers: headers, body: try body(object))
    }

    static func error(_ response: TestResponse) throws -> [String: Any] {
        try #require(try response.json["error"] as? [String: Any])
    }

    @Test(arguments: TestDatabases.kinds)
    func aToolIsCalledAsTheUserAndItsAnswerShaped(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream in
            await upstream.answer(
                OutboundResponse(
                    status: 200,
                    headers: [("Content-Type", "application/json")],
                    body: Data(#"{"id":7,"full_name":"octo/hello","owner":{"login":"octo"},"node_id":"MDEw","private":false}"#.utf8)
                )
            )
            let response = try await Self.invoke(
                client,
                fixture.headers,
                ["tool": "github.get_repo", "input": ["owner": "octo", "repo": "hello world"], "externalUserId": "alice"]
            )
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.json["result"] as? [String: Any] as NSDictionary? == ["id": 7, "full_name": "octo/hello", "private": false])
            let meta = try #require(try response.json["meta"] as? [String: Any])
            #expect(meta["status"] as? Int == 200)
            #expect((meta["durationMs"] as? Int ?? -1) >= 0)
            let credentialID = try #require(meta["credentialId"] as? String)
            #expect(meta["nextCursor"] == nil)
            #expect(!response.text.contains("alice-secret-token"))

            let sent = try #require(await upstream.requests.last)
            #expect(sent.method == "GET")
            #expect(sent.url.absoluteString == "https://api.github.com/repos/octo/hello%20world")
            #expect(sent.headers.contains { $0.name == "Authorization" && $0.value == "Bearer alice-secret-token" })

            // The request log names the tool, the user and the credential.
            let logged = try RequestLogTests.items(try await RequestLogTests.list(client, fixture, "?kind=tool"))
            try #require(logged.count == 1)
            #expect(logged[0]["tool"] as? String == "github.get_repo")
            #expect(logged[0]["credentialId"] as? String == credentialID)
            #expect(logged[0]["externalUserId"] as? String == "alice" && logged[0]["integration"] as? String == "github")
            #expect(logged[0]["status"] as? Int == 200)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aBadInputIsRefusedFieldByFieldBeforeAnythingIsSent(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream in
            let response = try await Self.invoke(
                client,
                fixture.headers,
                ["tool": "github.list_issues", "input": ["repo": "r", "per_page": 500, "extra": 1], "externalUserId": "alice"]
            )
            #expect(response.status == .badRequest)
            let error = try Self.error(response)
            #expect(error["code"] as? String == "invalid_request")
            let fields = try #require(error["fields"] as? [[String: String]])
            #expect(Set(fields.compactMap { $0["path"] }) == ["input.owner", "input.per_page", "input.extra"])
            #expect(fields.contains { $0["path"] == "input.per_page" && $0["message"] == "must be at most 100" })
            #expect(await upstream.requests.isEmpty)

            let unknown = try await Self.invoke(client, fixture.headers, ["tool": "github.nope", "externalUserId": "alice"])
            #expect(unknown.status == .badRequest)
            #expect(
                try Self.error(unknown)["fields"] as? [[String: String]] == [
                    ["path": "tool", "message": "is not a tool of this server; GET /api/v1/tools lists the tools you can call"]
                ]
            )
            let notSetUp = try await Self.invoke(client, fixture.headers, ["tool": "notion.search", "externalUserId": "alice"])
            #expect(notSetUp.status == .notFound)
            #expect(
                try Self.error(notSetUp)["message"] as? String
                    == "Notion is not set up on this server, so notion.search cannot be called. An administrator adds it under Integrations."
            )
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func notConnectedAndInsufficientScopeSayWhatToDoWithAbsoluteURLs(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream in
            let missing = try await Self.invoke(
                client,
                fixture.headers,
                ["tool": "github.get_repo", "input": ["owner": "o", "repo": "r"], "externalUserId": "bob"]
            )
            #expect(missing.status == .conflict)
            let notConnected = try Self.error(missing)
            #expect(notConnected["code"] as? String == "not_connected")
            #expect(((notConnected["action"] as? [String: Any])?["url"] as? String)?.hasPrefix("http") == true)

            // carol granted read:user only; creating an issue needs repo or public_repo.
            let scoped = try await Self.invoke(
                client,
                fixture.headers,
                ["tool": "github.create_issue", "input": ["owner": "o", "repo": "r", "title": "Bug"], "externalUserId": "carol"]
            )
            #expect(scoped.status == .forbidden)
            let error = try Self.error(scoped)
            #expect(error["code"] as? String == "insufficient_scope")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("repo (") && message.contains("public_repo ("))
            let action = try #require(error["action"] as? [String: Any])
            #expect(action["type"] as? String == "reconnect")
            let url = try #require(action["url"] as? String)
            #expect(url.hasPrefix("http") && url.contains("/connections?reconnect=") && url.hasSuffix("&scopes=repo%20public_repo"))
            #expect(await upstream.requests.isEmpty)
            #expect(!scoped.text.contains("carol-secret-token"))

            // A provider that says so itself (GitHub's accepted-scopes header) is believed too.
            await upstream.answer(
                OutboundResponse(
                    status: 403,
                    headers: [("X-Accepted-OAuth-Scopes", "repo"), ("X-OAuth-Scopes", "read:user"), ("Content-Type", "application/json")],
                    body: Data(#"{"message":"Resource not accessible by integration"}"#.utf8)
                )
            )
            let refused = try await Self.invoke(
                client,
                fixture.headers,
                ["tool": "github.get_repo", "input": ["owner": "o", "repo": "r"], "externalUserId": "carol"]
            )
            #expect(refused.status == .forbidden)
            #expect(try Self.error(refused)["code"] as? String == "insufficient_scope")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theProvidersRefusalsBecomeDesignErrors(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream in
            let call: [String: Any] = ["tool": "github.get_repo", "input": ["owner": "o", "repo": "r"], "externalUserId": "alice"]
            await upstream.answer(OutboundResponse(status: 404, headers: [], body: Data(#"{"message":"Not Found\nat all"}"#.utf8)))
            let notFound = try await Self.invoke(client, fixture.headers, call)
            #expect(notFound.status == .notFound)
            #expect(
                try Self.error(notFound)["message"] as? String
                    == "GitHub found nothing at this address (HTTP 404): check the input. GitHub said: Not Found at all"
            )

            await upstream.answer(OutboundResponse(status: 403, headers: [], body: Data(#"{"message":"Repository access blocked"}"#.utf8)))
            let forbidden = try await Self.invoke(client, fixture.headers, call)
            #expect(forbidden.status == .forbidden)
            #expect(try Self.error(forbidden)["code"] as? String == "forbidden")
            #expect((try Self.error(forbidden)["message"] as? String)?.hasSuffix("GitHub said: Repository access blocked") == true)

            // A provider that echoes the token in its message does not get it passed on.
            await upstream.answer(
                OutboundResponse(status: 422, headers: [], body: Data(#"{"message":"Validation Failed for alice-secret-token-0123456789"}"#.utf8))
            )
            let invalid = try await Self.invoke(client, fixture.headers, call)
            #expect(try Self.error(invalid)["code"] as? String == "invalid_request")
            #expect(
                try Self.error(invalid)["message"] as? String
                    == "GitHub refused this call (HTTP 422): check the input. GitHub said: Validation Failed for [redacted]"
            )

            await upstream.answer(OutboundResponse(status: 503, headers: [], body: Data("<html>down</html>".utf8)))
            let down = try await Self.invoke(client, fixture.headers, call)
            #expect(down.status == .badGateway)
            let transient = try Self.error(down)
            #expect(transient["code"] as? String == "provider_unreachable")
            #expect(transient["retryAfter"] as? Int == 5)
            #expect(!down.text.contains("<html>"))

            await upstream.answer(OutboundResponse(status: 429, headers: [("Retry-After", "120")], body: Data()))
            let limited = try await Self.invoke(client, fixture.headers, call)
            #expect(limited.status == .tooManyRequests)
            #expect(try Self.error(limited)["retryAfter"] as? Int == 120)

            let logged = try RequestLogTests.items(try await RequestLogTests.list(client, fixture, "?kind=tool"))
            #expect(
                Set(logged.compactMap { $0["errorCode"] as? String }) == [
                    "rate_limited", "provider_unreachable", "invalid_request", "forbidden", "not_found",
                ]
            )
            #expect(logged.count == 5)
            #expect(logged.allSatisfy { $0["tool"] as? String == "github.get_repo" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppKeyNeedsTheIntegrationAndSeveralIntegrationsMustBeNamed(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream in
            let call: [String: Any] = ["tool": "github.get_repo", "input": ["owner": "o", "repo": "r"], "externalUserId": "alice"]
            let (_, slackOnly) = try await AppsAPITests.createApp(
                client,
                fixture,
                ["name": "Slack bot", "permissions": ["integrations": ["slack"], "operations": ["tokens", "proxy"]]]
            )
            let refused = try await Self.invoke(client, AppsAPITests.appHeaders(slackOnly), call)
            #expect(refused.status == .forbidden)
            #expect(try Self.error(refused)["code"] as? String == "forbidden")
            #expect(try await AppsAPITests.auditActions(client, fixture, "app.access_denied").count == 1)

            // A key that may not call tools at all is told so before anything about the integrations.
            let (_, tokensOnly) = try await AppsAPITests.createApp(client, fixture, ["name": "Tokens", "permissions": ["operations": ["tokens"]]])
            let noTools = try await Self.invoke(client, AppsAPITests.appHeaders(tokensOnly), ["tool": "notion.search"])
            #expect(noTools.status == .forbidden)
            #expect((try Self.error(noTools)["message"] as? String)?.contains("not allowed to use proxy") == true)

            // An app may call it, for its own end users only: alice is the console's, not the app's.
            let (_, everything) = try await AppsAPITests.createApp(client, fixture, ["name": "Agent"])
            let notTheirs = try await Self.invoke(client, AppsAPITests.appHeaders(everything), call)
            #expect(try Self.error(notTheirs)["code"] as? String == "not_connected")

            let second = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "github", "key": "github-work", "clientId": "c", "clientSecret": "s"])
            )
            #expect(second.status == .created, "\(second.text)")
            let ambiguous = try await Self.invoke(client, fixture.headers, call)
            #expect(ambiguous.status == .badRequest)
            #expect((try Self.error(ambiguous)["message"] as? String)?.contains("github, github-work") == true)
            var named = call
            named["integration"] = "github"
            #expect(try await Self.invoke(client, fixture.headers, named).status == .ok)
            #expect(await upstream.requests.count == 1)
        }
    }
    @Test(arguments: TestDatabases.kinds)
    func slacksErrorsInASuccessfulAnswerAreErrorsToo(kind: TestDatabases.Kind) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(
            OutboundResponse(
                status: 200,
                headers: [("Content-Type", "application/json")],
                body: Data(#"{"ok":false,"error":"missing_scope","needed":"channels:read","provided":"chat:write"}"#.utf8)
            )
        )
        await network.route(host: "slack.com", to: upstream)
        try await TestApp.with(kind, transport: network) { client, fixture in
            try await ToolsAPITests.createIntegration(client, fixture.headers, "slack")
            // No scopes recorded: Latchkey cannot tell beforehand, Slack tells afterwards.
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "slack", "type": "oauth2", "accessToken": "xoxp-dana", "externalUserId": "dana"])
            )
            #expect(imported.status == .created)
            let call: [String: Any] = ["tool": "slack.list_channels", "externalUserId": "dana"]
            let scoped = try await Self.invoke(client, fixture.headers, call)
            #expect(scoped.status == .forbidden)
            let error = try Self.error(scoped)
            #expect(error["code"] as? String == "insufficient_scope")
            #expect((error["message"] as? String)?.contains("channels:read") == true)
            #expect(((error["action"] as? [String: Any])?["url"] as? String)?.hasSuffix("&scopes=channels%3Aread") == true)

            await upstream.answer(
                OutboundResponse(status: 200, headers: [], body: Data(#"{"ok":false,"error":"channel_not_found"}"#.utf8))
            )
            let other = try Self.error(try await Self.invoke(client, fixture.headers, call))
            #expect(other["code"] as? String == "invalid_request")
            #expect((other["message"] as? String)?.contains("channel_not_found") == true)

            await upstream.answer(OutboundResponse(status: 200, headers: [], body: Data(#"{"ok":false,"error":"invalid_auth"}"#.utf8)))
            #expect(try Self.error(try await Self.invoke(client, fixture.headers, call))["code"] as? String == "needs_reauth")

            await upstream.answer(
                OutboundResponse(
                    status: 200,
                    headers: [],
                    body: Data(
                        #"{"ok":true,"channels":[{"id":"C1","name":"general","creator":"U9"}],"response_metadata":{"next_cursor":"abc"}}"#.utf8
                    )
                )
            )
            let page = try await Self.invoke(client, fixture.headers, call)
            #expect(page.status == .ok)
            let meta = try #require(try page.json["meta"] as? [String: Any])
            #expect(meta["nextCursor"] as? String == "abc" && meta["cursorInput"] as? String == "cursor")
            #expect(!page.text.contains("creator"))
        }
    }
}
