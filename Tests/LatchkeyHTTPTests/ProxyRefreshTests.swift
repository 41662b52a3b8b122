import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
import NIOCore
import Testing

/// A proxied call whose token the provider refuses (401) gets one forced refresh and one retry; when the provider
/// refuses the refresh too, the caller is told to reconnect.
@Suite("Proxy refresh on 401")
struct ProxyRefreshTests {
    @Test(arguments: TestDatabases.kinds)
    func aRefusedTokenIsRefreshedOnceAndTheCallRetriedElseTheUserIsToldToReconnect(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            // Not due for refresh by its expiry: only the provider's 401 says the token no longer works.
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            let headers: HTTPFields = [.authorization: fixture.bearer, HTTPField.Name("Latchkey-End-User")!: "alice"]
            func call() async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/proxy/gitlab/user", method: .get, headers: headers)
            }
            #expect(try await call().status == .ok)
            await fake.clearRequests()

            await fake.expireAccessTokens()
            let retried = try await call()
            #expect(retried.status == .ok)
            let sent = await fake.requests.map { "\($0.method) \($0.url.path)" }
            #expect(sent == ["GET /api/v4/user", "POST /oauth/token", "GET /api/v4/user"])

            await fake.revokeAllGrants()
            let revoked = try await call()
            #expect(revoked.status == .conflict)
            #expect(["needs_reauth", "provider_revoked"].contains(revoked.errorCode ?? ""))
            let action = try #require((try revoked.json["error"] as? [String: Any])?["action"] as? [String: Any])
            #expect((action["url"] as? String)?.hasPrefix("http") == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aHeldBodyIsSentAgainAfterTheRefreshButAStreamedUploadIsNot(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, clock in
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            let headers: HTTPFields = [.authorization: fixture.bearer, HTTPField.Name("Latchkey-End-User")!: "alice"]
            func post(_ body: ByteBuffer) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/proxy/gitlab/user", method: .post, headers: headers, body: body)
            }
            // Within the server's body limit (1 MiB): held, so the retry carries it again.
            let small = ByteBuffer(repeating: UInt8(ascii: "s"), count: 1000)
            await fake.expireAccessTokens()
            await fake.clearRequests()
            #expect(try await post(small).status == .ok)
            var sent = await fake.requests
            #expect(sent.map { "\($0.method) \($0.url.path)" } == ["POST /api/v4/user", "POST /oauth/token", "POST /api/v4/user"])
            #expect(sent.first?.body == Data(small.readableBytesView) && sent.last?.body == Data(small.readableBytesView))

            // Larger: streamed to the provider as it arrives, so it cannot be sent twice; the token is refreshed and
            // the caller is asked to send the call again, which then goes through once.
            let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: 1024 * 1024 + 1)
            // Later, so that the token refreshed above is not taken as the fresh one.
            clock.advance(by: 60)
            await fake.expireAccessTokens()
            await fake.clearRequests()
            let refused = try await post(large)
            #expect(refused.status == .badGateway)
            #expect(refused.errorCode == "provider_unreachable")
            #expect(refused.headers[.retryAfter] == "0")
            #expect(refused.text.contains("Send the call again"))
            sent = await fake.requests
            #expect(sent.map { "\($0.method) \($0.url.path)" } == ["POST /api/v4/user", "POST /oauth/token"])
            #expect(sent.first?.body?.count == large.readableBytes)
            await fake.clearRequests()
            #expect(try await post(large).status == .ok)
            #expect(await fake.requests.map { "\($0.method) \($0.url.path)" } == ["POST /api/v4/user"])
        }
    }
}
