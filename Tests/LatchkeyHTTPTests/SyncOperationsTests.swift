import Foundation
import HTTPTypes
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

/// The operations side of reference-data sync: `sync.completed` and `sync.failed` queued with the run's save, the
/// sync metrics, each dataset's health in the Connection's, and the budget fraction as a setting.
@Suite("Reference data sync operations")
struct SyncOperationsTests {
    typealias World = HostedConnectPageTests.World

    /// GitHub's repository list answers 404 with a message that must not travel on: anything else goes to the fake.
    struct RefusingRepos: HTTPTransport {
        let fake: FakeProvider

        func send(_ request: OutboundRequest) async throws -> OutboundResponse {
            guard request.url.path == "/user/repos" else { return try await fake.send(request) }
            return OutboundResponse(
                status: 404,
                headers: [(name: "Content-Type", value: "application/json")],
                body: Data(#"{"message":"no such thing for ghp_providerWords123"}"#.utf8)
            )
        }
    }

    /// The sync events queued so far: (event type, app id or nil for the tenant's endpoint, the event's data).
    static func outbox(_ world: World) async throws -> [(type: String, app: String?, data: [String: Any])] {
        let rows = try await world.fixture.runtime.database.read { db in
            try await db.raw("SELECT event_type, app_id, payload FROM webhook_deliveries WHERE event_type LIKE 'sync.%' ORDER BY created_at, id")
                .all()
        }
        return try rows.map { row in
            let payload = try row.decode(column: "payload", as: String.self)
            let event = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
            return (
                try row.decode(column: "event_type", as: String.self), try row.decode(column: "app_id", as: String?.self),
                event["data"] as? [String: Any] ?? [:]
            )
        }
    }

    static func connectionSync(_ world: World, _ connection: String) async throws -> [[String: Any]] {
        let shown = try await world.client.execute(uri: "/api/v1/connections/\(connection)", method: .get, headers: world.fixture.headers)
        #expect(shown.status == .ok, "\(shown.text)")
        return try #require(try shown.json["sync"] as? [[String: Any]])
    }

    @Test(arguments: TestDatabases.kinds)
    func runsAreToldToTheTenantAndTheAppAndShownInTheConnectionsHealth(kind: TestDatabases.Kind) async throws {
        try await ReferenceDataSyncTests.withSarah(kind, repos: 5) { world, credential, connection, service in
            for (path, url) in [
                ("/api/v1/apps/\(world.app.id)/webhook", "https://derek.example/hook"), ("/api/v1/webhooks", "https://tenant.example/hook"),
            ] {
                #expect(try await AppWebhooksAPITests.put(world.client, world.fixture, path, url: url).status == .created)
            }
            // Turned on, not run yet: the dataset is in the health, waiting.
            try await service.runOnce()
            var sync = try await Self.connectionSync(world, connection)
            #expect(sync.map { $0["dataset"] as? String } == ["github.repos"])
            #expect((sync[0]["health"] as? [String: Any])?["pending"] as? Int == 1)

            world.clock.advance(by: 901)
            let report = try await service.runOnce()
            #expect(report.completed == 1, "\(report)")
            var events = try await Self.outbox(world)
            #expect(events.map(\.type) == ["sync.completed", "sync.completed"])
            #expect(Set(events.map(\.app)) == [nil, world.app.id], "the tenant's endpoint and the app's own")
            let completed = events[0].data
            #expect(completed["connectionId"] as? String == connection && completed["credentialId"] as? String == credential)
            #expect(completed["integration"] as? String == "github" && completed["dataset"] as? String == "github.repos")
            #expect(completed["externalUserId"] as? String == "sarah" && completed["status"] as? String == "ok")
            #expect(completed["records"] as? Int == 5 && completed["pages"] as? Int == report.pages && completed["recordsRemoved"] as? Int == 0)
            #expect(completed["fullRun"] as? Bool == true && completed["nextRunAt"] is String)

            sync = try await Self.connectionSync(world, connection)
            var health = try #require(sync.first?["health"] as? [String: Any])
            #expect(health["ok"] as? Int == 1 && health["records"] as? Int == 5 && health["lastSuccessAt"] is String && health["nextRunAt"] is String)
            #expect(sync.first?["enabled"] as? Bool == true && sync.first?["intervalSeconds"] as? Int == 86_400)

            // The provider refuses the list: the run is given up for now, in our words, never the provider's.
            let network = FakeNetwork()
            let refusing = RefusingRepos(fake: world.fake)
            for host in world.fake.hosts { await network.route(host: host, to: refusing) }
            let runtime = world.fixture.runtime
            let failing = runtime.syncService(outbound: runtime.outboundServices(transport: network), transport: network)
            world.clock.advance(by: 200_000)
            let failedReport = try await failing.runOnce()
            #expect(failedReport.failed == 1, "\(failedReport)")
            events = try await Self.outbox(world)
            let failed = events.filter { $0.type == "sync.failed" }
            #expect(failed.count == 2)
            let data = try #require(failed.first?.data)
            let error = try #require(data["error"] as? [String: Any])
            #expect(error["code"] as? String == "not_found" && (error["message"] as? String)?.isEmpty == false)
            #expect(data["paused"] as? Bool == false && data["failures"] as? Int == 1 && data["nextRunAt"] is String)
            #expect(data["credentialId"] as? String == credential && data["records"] as? Int == 5)
            let payloads = try await world.fixture.runtime.database.read { db in
                try await db.raw("SELECT payload FROM webhook_deliveries").all().map { try $0.decode(column: "payload", as: String.self) }
            }
            #expect(!payloads.contains { $0.contains("ghp_") || $0.contains("no such thing") }, "the provider's words stay out of events")

            sync = try await Self.connectionSync(world, connection)
            health = try #require(sync.first?["health"] as? [String: Any])
            #expect(health["failed"] as? Int == 1 && health["lastError"] is String)

            // Access revoked at GitHub: the run pauses the job and says so.
            await world.fake.revokeAllGrants()
            world.clock.advance(by: 200_000)
            #expect(try await service.runOnce().paused == 1)
            let paused = try #require(try await Self.outbox(world).last { $0.type == "sync.failed" }?.data)
            #expect(paused["paused"] as? Bool == true && paused["nextRunAt"] == nil)
            #expect(["needs_reauth", "provider_revoked"].contains((paused["error"] as? [String: Any])?["code"] as? String ?? ""))
        }
    }

    @Test func runsPagesRecordsAndJobsAreMeasuredWithoutCredentialsInTheLabels() async throws {
        try await ReferenceDataSyncTests.withSarah(.sqlite, repos: 5) { world, credential, _, service in
            try await service.runOnce()
            world.clock.advance(by: 901)
            #expect(try await service.runOnce().completed == 1)
            let metrics = try await world.client.execute(uri: "/metrics", method: .get).text
            for series in [
                #"latchkey_sync_runs_total{dataset="github.repos",outcome="completed"}"#,
                #"latchkey_sync_pages_total{dataset="github.repos"}"#,
                #"latchkey_sync_records_total{dataset="github.repos",change="upserted"}"#,
                #"latchkey_sync_records_total{dataset="github.repos",change="removed"}"#,
                #"latchkey_sync_run_duration_seconds_bucket{dataset="github.repos",le="#,
                #"latchkey_sync_jobs{status="ok"}"#, #"latchkey_sync_jobs{status="paused"}"#, "latchkey_sync_jobs_overdue ",
                "# HELP latchkey_sync_runs_total", "# HELP latchkey_sync_jobs ",
            ] {
                #expect(metrics.contains(series), "\(series)")
            }
            let lines = metrics.split(separator: "\n").filter { $0.hasPrefix("latchkey_sync") }
            #expect(!lines.contains { $0.contains(credential) || $0.contains("sarah") })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theBudgetFractionIsASettingTheSyncKeepsTo(kind: TestDatabases.Kind) async throws {
        try await ReferenceDataSyncTests.withSarah(kind, repos: 1000) { world, credential, connection, service in
            let uri = "/api/v1/connections/\(connection)/sync"
            let shown = try await world.client.execute(uri: uri, method: .get, headers: world.fixture.headers)
            #expect(try shown.json["budgetFraction"] as? Double == 0.2)
            for bad in [0.01, 0.95, "half"] as [Any] {
                let refused = try await world.client.execute(
                    uri: uri,
                    method: .put,
                    headers: world.fixture.headers,
                    body: try body(["budgetFraction": bad])
                )
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(refused.errorFields.contains("budgetFraction") || refused.text.contains("budgetFraction"), "\(bad): \(refused.text)")
            }
            #expect(try await world.client.execute(uri: uri, method: .get, headers: world.fixture.headers).json["budgetFraction"] as? Double == 0.2)

            // A budget of 10 calls a minute: a fifth is 2 pages of the 10 a run needs, then the run waits.
            try await GatewayRateLimitTests.setBudget(world.client, world.fixture, connection, 10)
            try await service.runOnce()
            world.clock.advance(by: 901)
            var report = try await service.runOnce()
            #expect(report.pages == 2 && report.deferred == 1, "\(report)")

            let saved = try await world.client.execute(
                uri: uri,
                method: .put,
                headers: world.fixture.headers,
                body: try body(["budgetFraction": 0.5])
            )
            #expect(saved.status == .ok, "\(saved.text)")
            #expect(try saved.json["budgetFraction"] as? Double == 0.5)
            #expect(try saved.json["datasets"] as? [[String: Any]] != nil, "the datasets stay as they were")
            let audited = try await AppsAPITests.auditActions(world.client, world.fixture, "connection.sync_set")
            #expect(audited.contains { ($0["details"] as? [String: Any])?["budgetFraction"] as? String == "0.5" }, "\(audited)")

            // Half the budget: 5 pages in the next window.
            world.clock.advance(by: 61)
            report = try await service.runOnce()
            #expect(report.pages == 5 && report.deferred == 1, "\(report)")
            let job = try #require(try await world.fixture.runtime.syncStore.job(credentialID: credential, dataset: "github.repos"))
            #expect(job.runPages == 7 && job.pageCursor != nil)
        }
    }

    @Test func theConnectionsBudgetShareReplacesThePacersDefault() {
        let pacer = SyncPacer()
        let now = Date(timeIntervalSince1970: 1000)
        let admitted = (0..<6).map { _ in
            pacer.admit(connectionID: "c", budget: 10, window: 60, used: 0, highWater: 8, now: now, fraction: 0.5) == nil
        }
        #expect(admitted == [true, true, true, true, true, false])
        #expect(pacer.admit(connectionID: "d", budget: 10, window: 60, used: 0, highWater: 8, now: now) == nil)
        #expect(pacer.admit(connectionID: "d", budget: 10, window: 60, used: 0, highWater: 8, now: now) == nil)
        #expect(pacer.admit(connectionID: "d", budget: 10, window: 60, used: 0, highWater: 8, now: now) != nil, "a fifth by default")
    }
}
