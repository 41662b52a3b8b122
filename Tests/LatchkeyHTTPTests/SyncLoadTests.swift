import Foundation
import HTTPTypes
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

/// Reference-data sync of a thousand credentials on one Connection, driven on an injected clock (no sleeps): the jobs'
/// first runs are spread, the sync keeps to its part of the Connection's budget, and a heavy interactive user calling
/// through the same fair limiter at the same time keeps what the limiter guarantees them.
@Suite("Reference data sync at load")
struct SyncLoadTests {
    static let credentials = 1_000
    static let budget = 600
    static let window: TimeInterval = 60
    /// The sync service's default share of a Connection's budget and the limiter's high-water mark.
    static let syncFraction = SyncPacer().fraction
    static let highWater = FairRateLimiterConfiguration().highWaterFraction

    /// The app's GitHub Connection with a thousand seeded end users (each one credential, a token the fake accepts),
    /// its budget set to 600 calls a minute and `github.repos` turned on; the fake serves three repositories to each
    /// and limits its API as GitHub does, with rate-limit headers on every answer.
    static func thousand(
        _ world: HostedConnectPageTests.World
    ) async throws -> (connection: String, sync: SyncService, gate: ProviderCallGate, credential: Credential) {
        let runtime = world.fixture.runtime
        let app = try #require(try await AppRepository(database: runtime.database).find(id: world.app.id, tenantID: world.fixture.tenantID))
        let tokens = (0..<credentials).map { "seeded-token-\($0)" }
        try await runtime.vault.seedEndUsers(
            .init(app: app, integrationKey: "github", count: credentials, externalIDPrefix: "person-") { n in
                CredentialSecret(accessToken: "seeded-token-\(n)")
            },
            actor: .cli
        )
        await world.fake.acceptAccessTokens(tokens)
        await world.fake.serve(dataset: "github.repos", records: ReferenceDataSyncTests.repos(3))
        await world.fake.limitAPI(5_000, per: 3_600)

        let listed = try await world.client.execute(uri: "/api/v1/connections", method: .get, headers: world.fixture.headers)
        let items = try #require(try listed.json["items"] as? [[String: Any]])
        let connection = try #require(
            items.first { $0["appId"] as? String == world.app.id && $0["integration"] as? String == "github" }?["id"] as? String
        )
        let budget = try await world.client.execute(
            uri: "/api/v1/connections/\(connection)/rate-limit",
            method: .put,
            headers: world.fixture.headers,
            body: try body(["budget": Self.budget, "windowSeconds": Int(Self.window)])
        )
        #expect(budget.status == .ok, "\(budget.text)")
        let set = try await ReferenceDataSyncTests.setSync(world, connection: connection, ["github.repos": ["enabled": true]])
        #expect(set.status == .ok, "\(set.text)")

        let network = FakeNetwork([world.fake])
        let outbound = runtime.outboundServices(transport: network)
        let sync = runtime.syncService(outbound: outbound, transport: network)
        let page = try await CredentialRepository(database: runtime.database).list(
            tenantID: world.fixture.tenantID,
            filter: CredentialFilter(connectionID: connection, limit: 1)
        )
        guard case .credential(let credential)? = page.entries.first else {
            Issue.record("no readable credential on the connection")
            throw CancellationError()
        }
        return (connection, sync, outbound.gate, credential)
    }

    /// Calls admitted in `[start, start + window)`.
    static func count(_ times: [Date], from start: Date) -> Int {
        times.count { $0 >= start && $0 < start.addingTimeInterval(window) }
    }

    @Test(arguments: TestDatabases.kinds)
    func aThousandCredentialsSyncSpreadAndWithinTheirShareWhileAHeavyUserKeepsTheirs(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let runtime = world.fixture.runtime
            let (connection, sync, gate, credential) = try await Self.thousand(world)
            let integration = try #require(try await runtime.integrations.integrations.find(key: "github", tenantID: world.fixture.tenantID))
            let provider = try #require(runtime.catalog.provider(id: "github"))
            let start = world.clock.now

            // The first pass plans a job per credential (and runs those due at once); their first runs are spread
            // over the first-run spread (15 minutes): no tenth of it holds more than twice its share, none is empty.
            var syncCalls: [Date] = []
            let planned = try await sync.runOnce()
            #expect(planned.planned == Self.credentials)
            syncCalls += Array(repeating: start, count: await world.fake.datasetPages)
            let jobs = try await runtime.syncStore.jobs(connectionID: connection)
            #expect(jobs.count == Self.credentials)
            let spread = SyncSchedule().firstRunSpread
            var tenths = [Int](repeating: 0, count: 10)
            for job in jobs {
                let offset = (job.lastRunAt ?? job.nextRunAt).timeIntervalSince(start)
                #expect(offset >= 0 && offset < spread)
                tenths[min(9, Int(offset / (spread / 10)))] += 1
            }
            let share = Self.credentials / 10
            #expect(tenths.allSatisfy { $0 > share / 2 && $0 <= 2 * share }, "\(tenths)")

            // Eighteen simulated minutes: a sync pass every 5 seconds (the service's poll); from minute 5 to minute 8 a
            // heavy interactive user tries 12 calls a second (more than the whole budget) through the same limiter.
            var heavyCalls: [Date] = []
            var heavyThrottled = 0
            let heavyPhase = 300..<480
            for second in 1..<1_080 {
                world.clock.advance(by: 1)
                if heavyPhase.contains(second) {
                    for _ in 0..<12 {
                        do {
                            _ = try await gate.admit(
                                credential: credential,
                                integration: integration,
                                provider: provider,
                                endUser: "heavy",
                                name: "GitHub"
                            )
                            heavyCalls.append(world.clock.now)
                        } catch let error as LatchkeyError where error.code == .rateLimited {
                            heavyThrottled += 1
                        }
                    }
                }
                if second % 5 == 0 {
                    let before = await world.fake.datasetPages
                    try await sync.runOnce()
                    let pages = await world.fake.datasetPages - before
                    syncCalls += Array(repeating: world.clock.now, count: pages)
                }
            }

            // Every credential synced, once: one page each, nothing refused by the provider, nothing stored twice.
            let done = try await runtime.syncStore.jobs(connectionID: connection)
            #expect(
                done.count { $0.status == .ok && $0.recordCount == 3 } == Self.credentials,
                "\(Dictionary(grouping: done, by: \.status).mapValues(\.count))"
            )
            #expect(syncCalls.count == Self.credentials)
            #expect(await world.fake.datasetRateLimited == 0)

            // The sync never took more than its fraction of the budget in any window, and with the heavy user the
            // Connection never went over the budget.
            let syncMost = FairRateLimiterTests.mostInAnyWindow(syncCalls, window: Self.window)
            #expect(syncMost <= Int(Double(Self.budget) * Self.syncFraction), "\(syncMost)")
            let allCalls = (syncCalls + heavyCalls).sorted()
            #expect(FairRateLimiterTests.mostInAnyWindow(allCalls, window: Self.window) <= Self.budget)

            // The heavy user asked for more than the budget and was throttled, but kept what the limiter guarantees:
            // it throttles a user over their share only from the high-water mark on, and the sync holds back there,
            // so in every full minute of the heavy phase the heavy user had at least the high-water mark less the
            // sync's fraction — far above an even share among the active users.
            #expect(heavyThrottled > 0)
            let floor = Int((Self.highWater - Self.syncFraction) * Double(Self.budget))
            for offset in stride(from: heavyPhase.lowerBound + 60, through: heavyPhase.upperBound - 60, by: 10) {
                let windowStart = start.addingTimeInterval(TimeInterval(offset))
                let heavy = Self.count(heavyCalls, from: windowStart)
                let synced = Self.count(syncCalls, from: windowStart)
                #expect(heavy >= floor, "minute from \(offset) s: heavy \(heavy), sync \(synced)")
                #expect(heavy + synced <= Self.budget)
            }
            // While nobody else called, the sync went on at its own pace (runs were due throughout the spread).
            #expect(Self.count(syncCalls, from: start.addingTimeInterval(120)) > 0)
        }
    }
}
