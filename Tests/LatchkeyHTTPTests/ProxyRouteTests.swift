import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
import NIOCore
import Testing

/// A provider API that answers every request with one prepared response and remembers what it was sent.
actor Upstream: HTTPTransport {
    private(set) var requests: [OutboundRequest] = []
    var response: OutboundResponse

    init(_ response: OutboundResponse) { self.response = response }

    func answer(_ response: OutboundResponse) { self.response = response }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        requests.append(request)
        return response
    }
}

/// `/api/v1/proxy/{integration}/{path…}`: calls relayed to the provider as the end user, with the token injected,
/// only the provider's API reachable, and only harmless headers crossing.
@Suite("Proxy route")
struct ProxyRouteTests {
    /// The app with an imported GitHub credential for `alice` and an upstream standing in for api.github.com.
    static func with(
        _ kind: TestDatabases.Kind,
        policy: OutboundPolicy? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ run: @Sendable (any TestClientProtocol, TestFixture, Upstream, FakeNetwork) async throws -> Void
    ) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(OutboundResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data("{}".utf8)))
        await network.route(host: "api.github.com", to: upstream)
        try await TestApp.with(kind, transport: network, outboundPolicy: policy, configure: configure) { client, fixture in
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "type": "oauth2", "accessToken": "alice-secret-token", "externalUserId": "alice"])
            )
            #expect(imported.status == .created)
            try await run(client, fixture, upstream, network)
        }
    }

    static func headers(_ fixture: TestFixture, user: String = "alice", _ extra: HTTPFields = [:]) -> HTTPFields {
        var fields: HTTPFields = [.authorization: fixture.bearer, HTTPField.Name("Latchkey-End-User")!: user]
        fields.append(contentsOf: extra)
        return fields
    }

    @Test(arguments: TestDatabases.kinds)
    func aCallIsRelayedWithItsQueryAndBodyAndTheTokenInjectedAndHeadersFilteredBothWays(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream, _ in
            await upstream.answer(
                OutboundResponse(
                    status: 201,
                    headers: [
                        ("Content-Type", "application/json"), ("Set-Cookie", "gh_session=1"), ("X-RateLimit-Remaining", "4999"),
                        ("Connection", "close, X-Hop"), ("X-Hop", "1"),
                    ],
                    body: Data(#"{"number":7}"#.utf8)
                )
            )
            let response = try await client.execute(
                uri: "/api/v1/proxy/github/repos/o/r/issues?state=open&q=a%20b",
                method: .post,
                headers: Self.headers(
                    fixture,
                    [
                        .cookie: "console=1", HTTPField.Name("X-Forwarded-For")!: "203.0.113.9", .contentType: "application/json",
                        HTTPField.Name("X-Custom")!: "kept",
                    ]
                ),
                body: body(#"{"title":"Bug"}"#)
            )
            #expect(response.status == .created)
            #expect(response.text == #"{"number":7}"#)
            #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "4999")
            #expect(response.headers[.setCookie] == nil)
            #expect(response.headers[HTTPField.Name("X-Hop")!] == nil)
            #expect(!response.text.contains("alice-secret-token"))
            let sent = try #require(await upstream.requests.first)
            #expect(sent.method == "POST")
            #expect(sent.url.absoluteString == "https://api.github.com/repos/o/r/issues?state=open&q=a%20b")
            #expect(sent.body == Data(#"{"title":"Bug"}"#.utf8))
            #expect(sent.header("Authorization") == "Bearer alice-secret-token")
            #expect(sent.header("X-Custom") == "kept")
            #expect(sent.header("X-GitHub-Api-Version") == "2022-11-28")
            for dropped in ["Cookie", "X-Forwarded-For", "Latchkey-End-User"] { #expect(sent.header(dropped) == nil, "\(dropped)") }
            // The caller's own Latchkey key never reaches the provider.
            #expect(!sent.headers.contains { $0.value.contains(fixture.adminKey) })
            // The call is in the request log as a proxy call for alice, without the token.
            let listed = try await RequestLogTests.list(client, fixture, "?kind=proxy")
            let entries = try RequestLogTests.items(listed)
            #expect(entries.count == 1)
            #expect(entries.first?["externalUserId"] as? String == "alice" && entries.first?["status"] as? Int == 201)
            #expect(!listed.text.contains("alice-secret-token"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPathThatWouldLeaveTheAPIIsRefusedBeforeAnyConnection(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, _, network in
            for path in [
                "%2e%2e/admin", "a/%252e%252e/b", "a%2Fb", "https:%2F%2Fevil.example/x", "user@evil.example/x", "a%5C..%5Cb", "a%00",
            ] {
                let response = try await client.execute(uri: "/api/v1/proxy/github/\(path)", method: .get, headers: Self.headers(fixture))
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.errorCode == "invalid_request", "\(path)")
            }
            #expect(await network.requests.isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aRedirectToAnotherHostIsNotFollowedButOneOnTheAPIHostIsPassedBack(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream, network in
            await upstream.answer(OutboundResponse(status: 302, headers: [("Location", "https://evil.example/collect")]))
            let away = try await client.execute(uri: "/api/v1/proxy/github/user", method: .get, headers: Self.headers(fixture))
            #expect(away.status == .badGateway)
            #expect(away.errorCode == "provider_unreachable")
            #expect(away.text.contains("evil.example"))
            #expect(await network.requests.count == 1)
            await upstream.answer(OutboundResponse(status: 301, headers: [("Location", "/repositories/1")]))
            let same = try await client.execute(uri: "/api/v1/proxy/github/repos/o/r", method: .get, headers: Self.headers(fixture))
            #expect(same.status == .movedPermanently)
            #expect(same.headers[.location] == "/repositories/1")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func resolverAndNetworkFailuresAnswerWithTheirDesignCodes(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, _, network in
            let stranger = try await client.execute(uri: "/api/v1/proxy/github/user", method: .get, headers: Self.headers(fixture, user: "bob"))
            #expect(stranger.status == .conflict)
            #expect(stranger.errorCode == "not_connected")
            #expect(await network.requests.isEmpty)
            await network.route(host: "api.github.com", to: FakeNetwork())
            let down = try await client.execute(uri: "/api/v1/proxy/github/user", method: .get, headers: Self.headers(fixture))
            #expect(down.status == .badGateway)
            #expect(down.errorCode == "provider_unreachable")
            #expect(!down.text.contains("alice-secret-token"))
            let badUser = try await client.execute(
                uri: "/api/v1/proxy/github/user",
                method: .get,
                headers: Self.headers(fixture, [HTTPField.Name("Latchkey-Connection-Id")!: "not-a-uuid"])
            )
            #expect(badUser.status == .badRequest)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppKeyLimitedToAnotherIntegrationIsRefused(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, _, network in
            let (_, key) = try await AppsAPITests.createApp(
                client,
                fixture,
                ["name": "Slack only", "permissions": ["integrations": ["slack"], "operations": ["proxy"]]]
            )
            let refused = try await client.execute(
                uri: "/api/v1/proxy/github/user",
                method: .get,
                headers: [.authorization: "Bearer \(key)", HTTPField.Name("Latchkey-End-User")!: "alice"]
            )
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "forbidden")
            #expect(await network.requests.isEmpty)
        }
    }

    @Test(arguments: [false, true])
    func proxiedCallsObeyTheOutboundPolicy(allowPrivateNetwork: Bool) async throws {
        let loopback = try #require(AddressClassifier.literal("127.0.0.1"))
        let policy = OutboundPolicy(allowPrivateNetwork: allowPrivateNetwork, resolver: .fixed(["api.github.com": [loopback]]))
        try await Self.with(.sqlite, policy: policy) { client, fixture, upstream, _ in
            let response = try await client.execute(uri: "/api/v1/proxy/github/user", method: .get, headers: Self.headers(fixture))
            if allowPrivateNetwork {
                #expect(response.status == .ok)
                #expect(await upstream.requests.count == 1)
            } else {
                #expect(response.status == .forbidden)
                #expect(response.text.contains("--allow-private-network"))
                #expect(await upstream.requests.isEmpty)
            }
        }
    }

    @Test func aRequestBodyOverTheProxyLimitIsRefusedBeforeAnyConnectionAndOneOverTheServerLimitIsRelayed() async throws {
        let smallUploads: (inout ServerConfiguration) -> Void = { $0.proxyMaxUploadBytes = 3 << 20 }
        try await Self.with(.sqlite, configure: smallUploads) { client, fixture, upstream, network in
            let refused = try await client.execute(
                uri: "/api/v1/proxy/github/repos/o/r/issues",
                method: .post,
                headers: Self.headers(fixture),
                body: ByteBuffer(repeating: UInt8(ascii: "x"), count: (3 << 20) + 1)
            )
            #expect(refused.status == .contentTooLarge)
            #expect(refused.errorCode == "payload_too_large")
            #expect(refused.text.contains("3 MiB"))
            #expect(await network.requests.isEmpty)

            // Over the server's 1 MiB body limit but within the proxy's: relayed as it is.
            let large = ByteBuffer(repeating: UInt8(ascii: "y"), count: 2 << 20)
            let relayed = try await client.execute(
                uri: "/api/v1/proxy/github/repos/o/r/issues",
                method: .post,
                headers: Self.headers(fixture),
                body: large
            )
            #expect(relayed.status == .ok)
            #expect(await upstream.requests.last?.body == Data(large.readableBytesView))
        }
    }
}
