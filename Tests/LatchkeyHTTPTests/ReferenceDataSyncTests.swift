import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// Reference data per credential: a Connection's datasets turned on through the API, each credential's job run by
/// the sync service against FakeProvider's paged API (driven directly, clock injected), and the records read back by
/// the app, paged and filtered.
@Suite("Reference data sync")
struct ReferenceDataSyncTests {
    typealias World = HostedConnectPageTests.World

    /// GitHub repositories as the API lists them, with a field the dataset does not keep.
    static func repos(_ count: Int, updated: String = "2026-01-01T00:00:00Z") -> [JSONValue] {
        (1...count).map { index in
            .object([
                "id": .integer(Int64(index)), "full_name": .string("octo/repo-\(index)"), "private": .bool(index % 2 == 0),
                "updated_at": .string(updated), "node_id": .string("MDEw\(index)"),
            ])
        }
    }

    static func query(_ url: URL, _ name: String) -> String? {
        URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == name }?.value
    }

    static func syncService(_ world: World) -> SyncService {
        let runtime = world.fixture.runtime
        let network = FakeNetwork([world.fake])
        return runtime.syncService(outbound: runtime.outboundServices(transport: network), transport: network)
    }

    static func setSync(_ world: World, connection: String, _ datasets: [String: Any]) async throws -> TestResponse {
        try await world.client.execute(
            uri: "/api/v1/connections/\(connection)/sync",
            method: .put,
            headers: world.fixture.headers,
            body: try body(["datasets": datasets])
        )
    }

    static func data(_ world: World, user: String, connection: String, _ query: String = "") async throws -> TestResponse {
        try await world.client.execute(
            uri: "/api/v1/connect/users/\(user)/connections/\(connection)/data/github.repos\(query)",
            method: .get,
            headers: AppsAPITests.appHeaders(world.app.key)
        )
    }

    /// Sarah connected through the hosted page, GitHub repositories turned on for the Connection.
    static func withSarah(
        _ kind: TestDatabases.Kind,
        repos count: Int = 250,
        _ body: @Sendable (World, _ credential: String, _ connection: String, SyncService) async throws -> Void
    ) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (credential, connection) = try await ConnectUsersAPITests.connect(world, user: "sarah")
            await world.fake.serve(dataset: "github.repos", records: Self.repos(count))
            let set = try await Self.setSync(world, connection: connection, ["github.repos": ["enabled": true]])
            #expect(set.status == .ok, "\(set.text)")
            try await body(world, credential, connection, Self.syncService(world))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aDatasetIsSyncedPageByPageAndARerunStoresNoDuplicates(kind: TestDatabases.Kind) async throws {
        try await Self.withSarah(kind) { world, credential, connection, service in
            let store = world.fixture.runtime.syncStore
            // The first pass plans the job; its first run comes within the first-run spread, not at once for all.
            var report = try await service.runOnce()
            #expect(report.planned == 1)
            let planned = try #require(try await store.job(credentialID: credential, dataset: "github.repos"))
            #expect(planned.status == .pending)
            #expect(planned.nextRunAt <= world.clock.now.addingTimeInterval(900))

            world.clock.advance(by: 901)
            await world.fake.clearRequests()
            report = try await service.runOnce()
            #expect(report.completed == 1 && report.pages == 3, "\(report)")
            var job = try #require(try await store.job(credentialID: credential, dataset: "github.repos"))
            #expect(job.status == .ok && job.recordCount == 250 && job.lastSuccessAt != nil && job.lastError == nil)
            #expect(job.since == "2026-01-01T00:00:00Z")
            // The next run is about a day later, on the credential's own phase.
            let gap = job.nextRunAt.timeIntervalSince(world.clock.now)
            #expect(gap >= 43_200 && gap <= 129_600, "\(gap)")
            let pages = await world.fake.requests.filter { $0.url.path == "/user/repos" }.map { Self.query($0.url, "page") }
            #expect(pages == ["1", "2", "3"])

            // A leased job is not run twice: another instance finds nothing due.
            let other = try await store.claimDue(
                now: world.clock.now.addingTimeInterval(200_000),
                owner: "a",
                until: world.clock.now.addingTimeInterval(300_000),
                limit: 10
            )
            #expect(other.count == 1)
            #expect(try await store.claimDue(now: world.clock.now.addingTimeInterval(200_000), owner: "b", until: world.clock.now, limit: 10).isEmpty)
            try await store.release(other[0], owner: "a", now: world.clock.now)

            // The next run asks only for changes (since) and upserts by key: one record changed, none duplicated.
            var changed = Self.repos(250)
            changed[16] = .object(["id": .integer(17), "full_name": .string("octo/renamed"), "updated_at": .string("2026-02-01T00:00:00Z")])
            await world.fake.serve(dataset: "github.repos", records: changed)
            world.clock.advance(by: 200_000)
            report = try await service.runOnce()
            #expect(report.completed == 1 && report.pages == 1, "\(report)")
            job = try #require(try await store.job(credentialID: credential, dataset: "github.repos"))
            #expect(job.recordCount == 250 && job.since == "2026-02-01T00:00:00Z")
            let since = await world.fake.requests.last.map { Self.query($0.url, "since") }
            #expect(since == "2026-01-01T00:00:00Z")
            let records = try await store.records(credentialID: credential, dataset: "github.repos", after: nil, limit: 500)
            #expect(records.count == 250 && Set(records.map(\.key)).count == 250)
            let renamed = try #require(records.first { $0.key == "17" })
            #expect(String(decoding: renamed.payload, as: UTF8.self).contains("octo/renamed"))
            // Sealed at rest: the stored bytes are not the JSON.
            let raw = try await world.fixture.runtime.database.read { db in
                try await db.raw("SELECT payload FROM sync_records WHERE record_key = '17'").first()?.decode(column: "payload", as: Data.self)
            }
            #expect(raw.map { !String(decoding: $0, as: UTF8.self).contains("octo") } == true)

            // Deleting the credential deletes its job and records.
            let deleted = try await world.client.execute(
                uri: "/api/v1/connect/users/sarah/connections/\(connection)",
                method: .delete,
                headers: AppsAPITests.appHeaders(world.app.key)
            )
            #expect(deleted.status == .noContent)
            #expect(try await store.job(credentialID: credential, dataset: "github.repos") == nil)
            #expect(try await store.records(credentialID: credential, dataset: "github.repos", after: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theAppReadsTheRecordsPagedAndFilteredWithTheJobsHealth(kind: TestDatabases.Kind) async throws {
        try await Self.withSarah(kind) { world, _, connection, service in
            let before = try await Self.data(world, user: "sarah", connection: connection)
            #expect(before.status == .ok)
            #expect(try before.json["items"] as? [Any] != nil && (try before.json["items"] as? [Any])?.isEmpty == true)

            try await service.runOnce()
            world.clock.advance(by: 901)
            try await service.runOnce()
            await world.fake.clearRequests()

            var keys: [String] = []
            var cursor: String?
            repeat {
                let page = try await Self.data(world, user: "sarah", connection: connection, "?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == .ok, "\(page.text)")
                let items = try #require(try page.json["items"] as? [[String: Any]])
                #expect(items.count <= 100)
                keys += items.compactMap { $0["key"] as? String }
                if let first = items.first {
                    let data = try #require(first["data"] as? [String: Any])
                    #expect(Set(data.keys) == ["id", "full_name", "private", "updated_at"], "the dataset's fields only")
                }
                cursor = try page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(keys.count == 250 && Set(keys).count == 250 && keys == keys.sorted())
            // Read from storage: the provider was not called.
            #expect(await world.fake.requests.isEmpty)

            let filtered = try await Self.data(world, user: "sarah", connection: connection, "?q=REPO-17")
            let names = try #require(try filtered.json["items"] as? [[String: Any]]).compactMap {
                ($0["data"] as? [String: Any])?["full_name"] as? String
            }
            #expect(Set(names) == Set(["octo/repo-17"] + (170...179).map { "octo/repo-\($0)" }))
            let sync = try #require(try filtered.json["sync"] as? [String: Any])
            #expect(sync["status"] as? String == "ok" && sync["recordCount"] as? Int == 250 && sync["lastSuccessAt"] is String)
            #expect(sync["nextRunAt"] is String)

            let small = try await Self.data(world, user: "sarah", connection: connection, "?q=repo-2&limit=5")
            #expect(try small.json["nextCursor"] is String)

            for (query, field) in [("?limit=0", "limit"), ("?limit=500", "limit"), ("?cursor=%25%25", "cursor")] {
                let refused = try await Self.data(world, user: "sarah", connection: connection, query)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(refused.text.contains(field))
            }
            let other = try await world.client.execute(
                uri: "/api/v1/connect/users/sarah/connections/\(connection)/data/slack.channels",
                method: .get,
                headers: AppsAPITests.appHeaders(world.app.key)
            )
            #expect(other.status == .notFound)
            #expect(other.text.contains("github.repos"))
            let nobody = try await Self.data(world, user: "nobody", connection: connection)
            #expect(nobody.status == .notFound)

            // The Connection's view sums up its credentials' jobs.
            let settings = try await world.client.execute(uri: "/api/v1/connections/\(connection)/sync", method: .get, headers: world.fixture.headers)
            let datasets = try #require(try settings.json["datasets"] as? [[String: Any]])
            #expect(datasets.map { $0["name"] as? String } == ["github.repos"])
            let health = try #require(datasets[0]["health"] as? [String: Any])
            #expect(health["jobs"] as? Int == 1 && health["ok"] as? Int == 1 && health["records"] as? Int == 250)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aCredentialThatNeedsReauthPausesItsJobUntilItWorksAgain(kind: TestDatabases.Kind) async throws {
        try await Self.withSarah(kind, repos: 3) { world, credential, connection, service in
            let store = world.fixture.runtime.syncStore
            try await service.runOnce()
            world.clock.advance(by: 901)
            let first = try await service.runOnce()
            #expect(first.completed == 1, "\(first)")

            // The person revoked access at GitHub: the run's 401, then the failed refresh, pause the job.
            await world.fake.revokeAllGrants()
            world.clock.advance(by: 200_000)
            let report = try await service.runOnce()
            #expect(report.paused == 1 && report.completed == 0, "\(report)")
            let job = try #require(try await store.job(credentialID: credential, dataset: "github.repos"))
            #expect(job.status == .paused && job.lastError != nil && job.recordCount == 3)
            var calls = await world.fake.requests.count
            world.clock.advance(by: 30)
            #expect(try await service.runOnce().completed == 0)
            #expect(await world.fake.requests.count == calls, "a paused job backs off")

            // Once the credential is marked as needing re-authorisation, nothing runs for it at all.
            _ = try await world.fixture.runtime.vault.update(
                id: credential,
                tenantID: world.fixture.tenantID,
                changes: .init(status: .needsReauth),
                actor: .cli
            )
            calls = await world.fake.requests.count
            world.clock.advance(by: 400_000)
            #expect(try await service.runOnce().completed == 0)
            #expect(await world.fake.requests.count == calls, "a paused job calls nothing")
            #expect(try await store.job(credentialID: credential, dataset: "github.repos")?.status == .paused)

            let read = try await Self.data(world, user: "sarah", connection: connection)
            #expect((try read.json["sync"] as? [String: Any])?["status"] as? String == "paused")
            #expect((try read.json["items"] as? [Any])?.count == 3, "the last records stay readable")
            let settings = try await world.client.execute(uri: "/api/v1/connections/\(connection)/sync", method: .get, headers: world.fixture.headers)
            let health = try #require((try settings.json["datasets"] as? [[String: Any]])?.first?["health"] as? [String: Any])
            #expect(health["paused"] as? Int == 1 && health["lastError"] is String)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badSettingsAreRefusedFieldByField(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (_, connection) = try await ConnectUsersAPITests.connect(world, user: "sarah")
            let shown = try await world.client.execute(uri: "/api/v1/connections/\(connection)/sync", method: .get, headers: world.fixture.headers)
            let offered = try #require(try shown.json["datasets"] as? [[String: Any]])
            #expect(offered.first?["enabled"] as? Bool == false && offered.first?["intervalSeconds"] as? Int == 86_400)

            let refused = try await Self.setSync(
                world,
                connection: connection,
                ["github.nope": ["enabled": true], "github.repos": ["intervalSeconds": 10]]
            )
            #expect(refused.status == .badRequest)
            let fields = try #require((try refused.json["error"] as? [String: Any])?["fields"] as? [[String: String]])
            #expect(Set(fields.compactMap { $0["path"] }) == ["datasets.github.nope", "datasets.github.repos.intervalSeconds"])
            #expect(fields.contains { $0["message"]?.contains("known: github.repos") == true })

            let unknownKey = try await Self.setSync(world, connection: connection, ["github.repos": ["on": true]])
            #expect(unknownKey.status == .badRequest && unknownKey.text.contains("datasets.github.repos.on"))
            let wrongType = try await Self.setSync(world, connection: connection, ["github.repos": ["enabled": "yes"]])
            #expect(wrongType.status == .badRequest && wrongType.text.contains("enabled"))
            let missing = try await world.client.execute(
                uri: "/api/v1/connections/\(UUID().uuidString.lowercased())/sync",
                method: .get,
                headers: world.fixture.headers
            )
            #expect(missing.status == .notFound)

            // Nothing was saved by the refusals; a valid change is, and audited.
            let saved = try await Self.setSync(world, connection: connection, ["github.repos": ["enabled": true, "intervalSeconds": 21_600]])
            #expect(saved.status == .ok)
            let now = try #require((try saved.json["datasets"] as? [[String: Any]])?.first)
            #expect(now["enabled"] as? Bool == true && now["intervalSeconds"] as? Int == 21_600)
            let audited = try await AppsAPITests.auditActions(world.client, world.fixture, "connection.sync_set")
            #expect(audited.count == 1)
        }
    }
}
