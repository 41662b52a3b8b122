// The reference-data sync benchmark (`sync/run.sh`): CREDENTIALS end users of one app's GitHub Connection, each synced
// for the dataset `github.repos` of RECORDS repositories, against the in-process fake provider (LatchkeyTesting's
// FakeProvider: GitHub's paging and rate-limit headers, no network), through the real sync service, proxy, fair
// limiter, sealing and store, on SQLite or PostgreSQL. The clock is a test clock the driver moves: the sync's own
// pacing (its fraction of the Connection's budget per window) is kept exactly while no second is spent waiting.
//
//     SyncBench --database sqlite|postgres [--credentials 1000] [--records 500] [--scenario unpaced|paced]
//
//   unpaced  the Connection's budget is set far above what the sync can use and every job is made due at once
//            ("sync now"): the wall time is the machinery's (fetch, seal, store) for the whole work.
//   paced    the Connection keeps GitHub's catalog budget (5000 calls an hour); jobs are planned as `serve` plans
//            them (first runs spread over 15 minutes) and the sync takes its fifth of the budget: the simulated time
//            to finish, and the most sync calls in any window against the budget given.
//
// PostgreSQL comes from LATCHKEY_TEST_DATABASE_URL (a fresh schema, dropped at the end). Prints one `RESULT key=value
// …` line.
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data(("SyncBench: " + text + "\n").utf8))
    exit(64)
}

func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

var kind = TestDatabases.Kind.sqlite
var credentials = 1_000
var records = 500
var scenario = "unpaced"
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    guard !arguments.isEmpty else { fail("\(flag) needs a value") }
    let value = arguments.removeFirst()
    switch flag {
    case "--database":
        switch value {
        case "sqlite": kind = .sqlite
        case "postgres": kind = .postgres
        default: fail("--database is sqlite or postgres")
        }
    case "--credentials": credentials = Int(value) ?? 0
    case "--records": records = Int(value) ?? -1
    case "--scenario":
        guard ["unpaced", "paced"].contains(value) else { fail("--scenario is unpaced or paced") }
        scenario = value
    default: fail("unknown argument \(flag)")
    }
}
guard credentials > 0, records >= 0 else { fail("--credentials is positive, --records not negative") }

try await bench(kind: kind, credentials: credentials, records: records, scenario: scenario)

func bench(kind: TestDatabases.Kind, credentials: Int, records: Int, scenario: String) async throws {
    let clock = TestClock()
    let catalog = try ProviderCatalog.bundled()
    guard let github = catalog.provider(id: "github"), let githubBudget = github.rateLimit else { fail("no GitHub in the catalog") }
    let dataset = "github.repos"
    try await TestDatabases.withRuntime(kind, clock: clock) { runtime in
        let tenantID = runtime.defaultTenant.id
        _ = try await runtime.integrations.create(
            .init(key: "github", provider: "github", clientID: "bench-client", clientSecret: "bench-secret"),
            tenantID: tenantID,
            actor: .cli
        )
        let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
        let (app, _) = try await apps.create(.init(name: "sync-bench"), tenantID: tenantID, actor: .cli)
        let seedStart = Date()
        try await runtime.vault.seedEndUsers(
            .init(app: app, integrationKey: "github", count: credentials, externalIDPrefix: "user-") { n in
                CredentialSecret(accessToken: "bench-token-\(n)", tokenType: "Bearer")
            },
            actor: .cli
        )
        note("seeded \(credentials) credentials in \(String(format: "%.1f", Date().timeIntervalSince(seedStart))) s")
        guard let connection = try await runtime.tenants.directory.connections(tenantID: tenantID).first(where: { $0.appID == app.id }) else {
            fail("the app has no GitHub Connection")
        }

        let fake = try FakeProvider(provider: github, clock: clock)
        await fake.acceptAccessTokens((0..<credentials).map { "bench-token-\($0)" })
        let repos: [JSONValue] = (0..<records).map { n -> JSONValue in
            var fields: [String: JSONValue] = [:]
            fields["id"] = .integer(Int64(n + 1))
            fields["full_name"] = .string("octo/repo-\(n)")
            fields["private"] = .bool(n % 2 == 0)
            fields["description"] = .string("Repository number \(n), with a description of ordinary length")
            fields["html_url"] = .string("https://github.com/octo/repo-\(n)")
            fields["default_branch"] = .string("main")
            fields["updated_at"] = .string("2026-01-01T00:00:00Z")
            fields["node_id"] = .string("R_kgDO\(n)")
            fields["stargazers_count"] = .integer(Int64(n))
            return .object(fields)
        }
        await fake.serve(dataset: dataset, records: repos)
        // GitHub's own limit is per token; one shared limit as high as the sum keeps the headers on every answer.
        await fake.limitAPI(githubBudget.budget * credentials, per: TimeInterval(githubBudget.windowSeconds))

        let budget: RateLimitPolicy
        if scenario == "unpaced" {
            budget = RateLimitPolicy(budget: 10_000_000, window: 60)
            try await ConnectionRateLimitRepository(database: runtime.database).save(
                connectionID: connection.id,
                ConnectionRateLimit(budget: Int(budget.budget), windowSeconds: 60, updatedAt: clock.now)
            )
        } else {
            budget = RateLimitPolicy(budget: githubBudget.budget, window: TimeInterval(githubBudget.windowSeconds))
        }
        try await runtime.syncStore.save(
            settings: [SyncSetting(dataset: dataset, enabled: true, intervalSeconds: SyncSetting.defaultIntervalSeconds, updatedAt: clock.now)],
            connectionID: connection.id,
            tenantID: tenantID
        )
        let network = FakeNetwork([fake])
        let sync = runtime.syncService(outbound: runtime.outboundServices(transport: network), transport: network)

        let started = Date()
        let simulatedStart = clock.now
        if scenario == "unpaced" {
            let due = try await runtime.syncStore.runNow(
                connectionID: connection.id,
                tenantID: tenantID,
                datasets: [dataset],
                credentialID: nil,
                now: clock.now
            )
            guard due == credentials else { fail("sync now made \(due) jobs due, not \(credentials)") }
        }
        var calls: [(at: Date, count: Int)] = []
        var passes = 0
        var completed = 0
        var deferred = 0
        while completed < credentials {
            let before = await fake.datasetPages
            let report = try await sync.runOnce()
            passes += 1
            completed += report.completed
            deferred += report.deferred
            let made = await fake.datasetPages - before
            if made > 0 { calls.append((clock.now, made)) }
            if completed >= credentials { break }
            // The next look: the service's poll, or straight to the next job due when nothing is due before it.
            let jobs = try await runtime.syncStore.jobs(connectionID: connection.id)
            let next = jobs.filter { $0.status != .ok || $0.pageCursor != nil }.map(\.nextRunAt).min() ?? clock.now
            clock.advance(by: max(5, next.timeIntervalSince(clock.now)))
            if passes > 200_000 { fail("no end in sight after \(passes) passes (\(completed) of \(credentials) done)") }
        }
        let wall = Date().timeIntervalSince(started)
        let simulated = clock.now.timeIntervalSince(simulatedStart)

        // The most sync calls in any window of the Connection's budget.
        var most = 0
        var start = 0
        var inWindow = 0
        for end in calls.indices {
            inWindow += calls[end].count
            while calls[start].at <= calls[end].at.addingTimeInterval(-budget.window) {
                inWindow -= calls[start].count
                start += 1
            }
            most = max(most, inWindow)
        }
        let jobs = try await runtime.syncStore.jobs(connectionID: connection.id)
        let stored = jobs.reduce(0) { $0 + $1.recordCount }
        let providerCalls = await fake.datasetPages
        let limited = await fake.datasetRateLimited
        let allowed = Int(Double(budget.budget) * SyncPacer().fraction)
        print(
            "RESULT database=\(kind == .sqlite ? "sqlite" : "postgres") scenario=\(scenario) credentials=\(credentials) records=\(records)"
                + " wall_s=\(String(format: "%.1f", wall)) records_per_s=\(Int(Double(stored) / max(wall, 0.001)))"
                + " provider_calls=\(providerCalls) calls_per_credential=\(String(format: "%.2f", Double(providerCalls) / Double(credentials)))"
                + " provider_429=\(limited) stored=\(stored) passes=\(passes) deferred=\(deferred)"
                + " simulated_s=\(Int(simulated)) budget=\(budget.budget)/\(Int(budget.window))s sync_allowed=\(allowed)"
                + " sync_most_in_window=\(most)"
        )
        guard stored == credentials * records else { fail("stored \(stored) records, not \(credentials * records)") }
    }
}
