import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
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
}
