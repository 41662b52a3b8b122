import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Fair rate limits per Connection and the shared circuit in front of proxied calls: a heavy end user is throttled
/// while light ones are not, the provider's own limits are obeyed, a paused provider is not called, and every call
/// is counted in the metrics.
@Suite("Gateway rate limits and circuit")
struct GatewayRateLimitTests {
    static let lightUsers = (1...9).map { "light-\($0)" }

    /// The app with imported GitHub credentials for `heavy` and the nine light users on the console app's GitHub
    /// Connection, an upstream standing in for api.github.com, and that Connection's id.
    static func with(
        _ kind: TestDatabases.Kind,
        clock: TestClock = TestClock(),
        _ run: @Sendable (any TestClientProtocol, TestFixture, Upstream, String) async throws -> Void
    ) async throws {
        let network = FakeNetwork()
        let upstream = Upstream(OutboundResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data("{}".utf8)))
        await network.route(host: "api.github.com", to: upstream)
        try await TestApp.with(kind, clock: clock, transport: network) { client, fixture in
            for user in ["heavy"] + lightUsers {
                let imported = try await client.execute(
                    uri: "/api/v1/credentials",
                    method: .post,
                    headers: fixture.headers,
                    body: try body(["integration": "github", "type": "oauth2", "accessToken": "token-of-\(user)", "externalUserId": user])
                )
                #expect(imported.status == .created)
            }
            let listed = try await client.execute(uri: "/api/v1/connections", method: .get, headers: fixture.headers)
            let items = try #require(try listed.json["items"] as? [[String: Any]])
            let connection = try #require(items.first { $0["integration"] as? String == "github" }?["id"] as? String)
            try await run(client, fixture, upstream, connection)
        }
    }

    static func call(_ client: any TestClientProtocol, _ fixture: TestFixture, as user: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/proxy/github/user/repos",
            method: .get,
            headers: [.authorization: fixture.bearer, HTTPField.Name("Latchkey-End-User")!: user]
        )
    }

    static func setBudget(_ client: any TestClientProtocol, _ fixture: TestFixture, _ connection: String, _ budget: Int) async throws {
        let set = try await client.execute(
            uri: "/api/v1/connections/\(connection)/rate-limit",
            method: .put,
            headers: fixture.headers,
            body: try body(["budget": budget, "windowSeconds": 60])
        )
        #expect(set.status == .ok)
        #expect(try set.json["source"] as? String == "connection")
    }

    @Test(arguments: TestDatabases.kinds)
    func aHeavyEndUserIsThrottledWithRetryAfterWhileNineLightOnesAllGetThrough(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream, connection in
            try await Self.setBudget(client, fixture, connection, 60)
            var heavy = (admitted: 0, throttled: 0)
            var light = (admitted: 0, refused: 0)
            for round in 0..<100 {
                if round % 50 == 0 {
                    for user in Self.lightUsers {
                        let response = try await Self.call(client, fixture, as: user)
                        if response.status == .ok { light.admitted += 1 } else { light.refused += 1 }
                    }
                }
                let response = try await Self.call(client, fixture, as: "heavy")
                if response.status == .ok {
                    heavy.admitted += 1
                } else {
                    heavy.throttled += 1
                    #expect(response.status == .tooManyRequests)
                    #expect(response.errorCode == "rate_limited")
                    let retryAfter = try #require(response.headers[.retryAfter].flatMap { Int($0) })
                    #expect(retryAfter >= 1 && retryAfter <= 60)
                    let error = try #require(try response.json["error"] as? [String: Any])
                    #expect(error["retryAfter"] as? Int == retryAfter)
                }
            }
            #expect(light.admitted == 18 && light.refused == 0)
            #expect(heavy.throttled > 0)
            // The budget holds: never more calls reached the provider than it allows in the window.
            #expect(heavy.admitted + light.admitted <= 60)
            #expect(await upstream.requests.count == heavy.admitted + light.admitted)

            let usage = try await client.execute(uri: "/api/v1/connections/\(connection)/usage", method: .get, headers: fixture.headers)
            #expect(usage.status == .ok)
            let users = try #require(try usage.json["users"] as? [[String: Any]])
            let heavyRow = try #require(users.first { $0["externalUserId"] as? String == "heavy" })
            #expect(heavyRow["admitted"] as? Int == heavy.admitted && heavyRow["throttled"] as? Int == heavy.throttled)
            #expect(users.filter { ($0["externalUserId"] as? String)?.hasPrefix("light-") == true }.allSatisfy { $0["admitted"] as? Int == 2 })
            #expect(try usage.json["used"] as? Int == heavy.admitted + light.admitted)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aProvider429IsRateLimitedWithTheProvidersRetryAfter(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream, _ in
            await upstream.answer(OutboundResponse(status: 429, headers: [("Retry-After", "120")], body: Data("slow down".utf8)))
            let response = try await Self.call(client, fixture, as: "heavy")
            #expect(response.status == .tooManyRequests)
            #expect(response.errorCode == "rate_limited")
            #expect(response.headers[.retryAfter] == "120")
            let error = try #require(try response.json["error"] as? [String: Any])
            #expect(error["retryAfter"] as? Int == 120)
            #expect((error["message"] as? String)?.contains("120 seconds") == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theProvidersRateLimitHeadersLowerTheBudgetUntilTheirReset(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await Self.with(kind, clock: clock) { client, fixture, upstream, connection in
            let reset = Int(clock.now.timeIntervalSince1970) + 600
            await upstream.answer(
                OutboundResponse(status: 200, headers: [("x-ratelimit-remaining", "1"), ("x-ratelimit-reset", "\(reset)")], body: Data("{}".utf8))
            )
            #expect(try await Self.call(client, fixture, as: "light-1").status == .ok)
            await upstream.answer(
                OutboundResponse(status: 200, headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "\(reset)")], body: Data("{}".utf8))
            )
            #expect(try await Self.call(client, fixture, as: "light-2").status == .ok)
            // GitHub said one call was left, then none: the next ones wait for its reset without calling it.
            let refused = try await Self.call(client, fixture, as: "light-3")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 500 && retryAfter <= 600)
            #expect(await upstream.requests.count == 2)
            let usage = try await client.execute(uri: "/api/v1/connections/\(connection)/usage", method: .get, headers: fixture.headers)
            #expect(try usage.json["providerRemaining"] as? Int == 0)
            #expect(try usage.json["budgetInForce"] as? Int == 2)
            // After the reset the catalog's budget applies again.
            clock.advance(by: 601)
            await upstream.answer(OutboundResponse(status: 200, body: Data("{}".utf8)))
            #expect(try await Self.call(client, fixture, as: "light-3").status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func failuresOpenTheSharedCircuitAndThenNoCallReachesTheProvider(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, upstream, _ in
            await upstream.answer(OutboundResponse(status: 503, body: Data("down".utf8)))
            for _ in 0..<5 {
                let failed = try await Self.call(client, fixture, as: "heavy")
                // The provider's own answer is passed back while the circuit counts it.
                #expect(failed.status == .serviceUnavailable)
                #expect(failed.errorCode == nil)
            }
            #expect(await upstream.requests.count == 5)
            let paused = try await Self.call(client, fixture, as: "light-1")
            #expect(paused.status == .serviceUnavailable)
            #expect(paused.errorCode == "provider_unavailable")
            let retryAfter = try #require(paused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter >= 1 && retryAfter <= 30)
            #expect(await upstream.requests.count == 5)
            // The same circuit the refresh path reads.
            let integration = try #require(try await fixture.runtime.integrations.integrations.find(key: "github", tenantID: fixture.tenantID))
            let stored = try await CircuitRepository(database: fixture.runtime.database).state(integrationID: integration.id)
            #expect(stored.isOpen(now: fixture.runtime.clock.now))
        }
    }

    @Test func callsAreCountedByProviderToolAndOutcomeWithTheirLatencyAndNoUserInTheLabels() async throws {
        try await Self.with(.sqlite) { client, fixture, upstream, _ in
            #expect(try await Self.call(client, fixture, as: "heavy").status == .ok)
            await upstream.answer(OutboundResponse(status: 404, body: Data("{}".utf8)))
            #expect(try await Self.call(client, fixture, as: "heavy").status == .notFound)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            for series in [
                #"latchkey_gateway_calls_total{provider="github",tool="",outcome="ok"}"#,
                #"latchkey_gateway_calls_total{provider="github",tool="",outcome="provider_4xx"}"#,
                #"latchkey_gateway_call_duration_seconds_bucket{provider="github",tool="",outcome="ok",le="#,
                #"latchkey_rate_limit_admitted_total{integration="github"}"#,
                #"latchkey_rate_budget_used_ratio{integration="github"}"#,
                "# HELP latchkey_gateway_calls_total",
            ] {
                #expect(metrics.contains(series), "\(series)")
            }
            #expect(!metrics.contains("heavy"))
            #expect(!metrics.contains("token-of-"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aConnectionsOwnBudgetIsCheckedSetAndRemoved(kind: TestDatabases.Kind) async throws {
        try await Self.with(kind) { client, fixture, _, connection in
            let uri = "/api/v1/connections/\(connection)/rate-limit"
            let initial = try await client.execute(uri: uri, method: .get, headers: fixture.headers)
            #expect(try initial.json["source"] as? String == "catalog")
            #expect(try initial.json["budget"] as? Int == 5000 && initial.json["windowSeconds"] as? Int == 3600)
            for (bad, field) in [
                (["budget": 0, "windowSeconds": 60], "budget"), (["budget": 10, "windowSeconds": 90_000], "windowSeconds"),
                (["budget": 10, "windowSeconds": 60, "burst": 3], "burst"),
            ] as [([String: Any], String)] {
                let refused = try await client.execute(uri: uri, method: .put, headers: fixture.headers, body: try body(bad))
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(refused.errorFields.contains(field), "\(bad)")
            }
            try await Self.setBudget(client, fixture, connection, 1)
            #expect(try await Self.call(client, fixture, as: "heavy").status == .ok)
            #expect(try await Self.call(client, fixture, as: "light-1").status == .tooManyRequests)
            let removed = try await client.execute(uri: uri, method: .delete, headers: fixture.headers)
            #expect(try removed.json["source"] as? String == "catalog")
            let audited = try await client.execute(uri: "/api/v1/audit", method: .get, headers: fixture.headers)
            #expect(audited.text.contains("connection.rate_limit_set") && audited.text.contains("connection.rate_limit_removed"))
            let again = try await Self.call(client, fixture, as: "light-1")
            #expect(again.status == .ok, "\(again.text)")
            let unknown = try await client.execute(
                uri: "/api/v1/connections/\(UUID().uuidString.lowercased())/usage",
                method: .get,
                headers: fixture.headers
            )
            #expect(unknown.status == .notFound)
        }
    }

    @Test func theProvidersHeadersAreReadAsTheCatalogNamesThem() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let github = RateLimitHeaders(retryAfter: "Retry-After", reset: "x-ratelimit-reset", remaining: "x-ratelimit-remaining", limit: nil)
        let epoch = try #require(
            ProviderRateLimitSignal.read([("X-RateLimit-Remaining", "7"), ("X-RateLimit-Reset", "1800000600")], names: github, now: now)
        )
        #expect(epoch.remaining == 7 && epoch.resetAt == now.addingTimeInterval(600) && epoch.waitSeconds(now: now) == nil)
        let delta = ProviderRateLimitSignal.read([("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "30")], names: github, now: now)
        #expect(delta?.waitSeconds(now: now) == 30)
        let rfc3339 = RateLimitHeaders(retryAfter: nil, reset: "reset", remaining: "left", limit: nil)
        let dated = ProviderRateLimitSignal.read([("left", "0"), ("reset", "2027-01-15T08:00:45Z")], names: rfc3339, now: now)
        #expect(dated?.resetAt == Date(timeIntervalSince1970: 1_800_000_045))
        let httpDate = ProviderRateLimitSignal.read([("Retry-After", "Fri, 15 Jan 2027 08:01:00 GMT")], names: nil, now: now)
        #expect(httpDate?.waitSeconds(now: now) == 60)
        #expect(ProviderRateLimitSignal.read([("Retry-After", "soon")], names: github, now: now) == nil)
    }

    @Test func theAppsPageShowsEachConnectionsRateLimitAndUseAndChangesIt() async throws {
        try await Self.with(.sqlite) { client, fixture, _, connection in
            let app = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let admin = try await AppsPagesTests.admin(client, fixture)
            #expect(try await Self.call(client, fixture, as: "heavy").status == .ok)
            let page = try await admin.get("/admin/apps/\(app.id)")
            let line = "Rate limit: 5000 calls per 3600 s (the service&#39;s default) · this window: 1 calls, 0 refused"
            #expect(page.text.contains(line))
            let form = "/admin/apps/\(app.id)/connections/\(connection)/rate-limit"
            let refused = try await admin.post(form, ["budget": "lots", "windowSeconds": "60"])
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("whole numbers"))
            let tooLong = try await admin.post(form, ["budget": "10", "windowSeconds": "90000"])
            #expect(tooLong.status == .badRequest && tooLong.text.contains("86400"))
            let saved = try await admin.post(form, ["budget": "10", "windowSeconds": "60"])
            #expect(saved.status == .seeOther)
            let after = try await admin.get(try #require(saved.location))
            #expect(after.text.contains("Rate limit saved.") && after.text.contains("Rate limit: 10 calls per 60 s (set here)"))
            let api = try await client.execute(uri: "/api/v1/connections/\(connection)/rate-limit", method: .get, headers: fixture.headers)
            #expect(try api.json["source"] as? String == "connection" && api.json["budget"] as? Int == 10)
            _ = try await admin.get("/admin/apps/\(app.id)")
            #expect(try await admin.post(form, ["budget": "", "windowSeconds": "60"]).status == .seeOther)
            let reset = try await client.execute(uri: "/api/v1/connections/\(connection)/rate-limit", method: .get, headers: fixture.headers)
            #expect(try reset.json["source"] as? String == "catalog")
        }
    }
}
