import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// "Sync now" (`POST /api/v1/connections/{id}/sync/run`): an operator makes a Connection's jobs due at once instead of
/// waiting for the spread of first runs or the next interval; the sync service's next pass runs them.
@Suite("Reference data sync now")
struct SyncRunNowTests {
    typealias World = HostedConnectPageTests.World

    static func run(_ world: World, connection: String, _ object: [String: Any]? = nil) async throws -> TestResponse {
        try await world.client.execute(
            uri: "/api/v1/connections/\(connection)/sync/run",
            method: .post,
            headers: world.fixture.headers,
            body: try object.map { try body($0) }
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func syncNowPlansAndRunsTheJobsAtOnceAndIsAudited(kind: TestDatabases.Kind) async throws {
        try await ReferenceDataSyncTests.withSarah(kind, repos: 5) { world, credential, connection, service in
            let store = world.fixture.runtime.syncStore
            // Nothing planned yet: the job is planned due now, not within the 15-minute spread of first runs.
            let started = try await Self.run(world, connection: connection)
            #expect(started.status == .accepted, "\(started.text)")
            #expect(try started.json["due"] as? Int == 1)
            #expect(try started.json["datasets"] as? [String] == ["github.repos"])
            let job = try #require(try await store.job(credentialID: credential, dataset: "github.repos"))
            #expect(job.nextRunAt <= world.clock.now && job.status == .pending)
            var report = try await service.runOnce()
            #expect(report.completed == 1, "\(report)")
            #expect(try await store.job(credentialID: credential, dataset: "github.repos")?.recordCount == 5)

            // Done: the next run is about a day away. Sync now for that one credential brings it forward.
            world.clock.advance(by: 60)
            #expect(try await service.runOnce().completed == 0)
            let again = try await Self.run(world, connection: connection, ["dataset": "github.repos", "credentialId": credential.uppercased()])
            #expect(again.status == .accepted, "\(again.text)")
            #expect(try again.json["due"] as? Int == 1 && again.json["credentialId"] as? String == credential)
            report = try await service.runOnce()
            #expect(report.completed == 1, "\(report)")

            // A job in a run (leased) is left to it and not counted.
            world.clock.advance(by: 60)
            _ = try await Self.run(world, connection: connection)
            let leased = try await store.claimDue(now: world.clock.now, owner: "other", until: world.clock.now.addingTimeInterval(120), limit: 5)
            #expect(leased.count == 1)
            #expect(try await Self.run(world, connection: connection).json["due"] as? Int == 0)

            let audited = try await AppsAPITests.auditActions(world.client, world.fixture, "connection.sync_run")
            #expect(audited.count == 4)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func syncNowRefusesWhatCannotRunInWords(kind: TestDatabases.Kind) async throws {
        try await ReferenceDataSyncTests.withSarah(kind, repos: 1) { world, credential, connection, _ in
            func refused(_ object: [String: Any]?, _ status: HTTPResponse.Status, _ words: String, at connectionID: String = connection) async throws
            {
                let response = try await Self.run(world, connection: connectionID, object)
                #expect(response.status == status, "\(String(describing: object)): \(response.text)")
                #expect(response.text.contains(words), "\(String(describing: object)): \(response.text)")
            }
            try await refused(["dataset": "github.nope"], .badRequest, "known: github.repos")
            try await refused(["dataset": "github.repos", "extra": true], .badRequest, "extra")
            try await refused(["credentialId": "not-an-id"], .badRequest, "credentialId")
            try await refused(["credentialId": UUID().uuidString], .notFound, "not_found")
            try await refused(nil, .notFound, "not_found", at: UUID().uuidString.lowercased())
            try await refused(nil, .badRequest, "id", at: "nope")

            // An app key is not an admin key.
            let app = try await world.client.execute(
                uri: "/api/v1/connections/\(connection)/sync/run",
                method: .post,
                headers: AppsAPITests.appHeaders(world.app.key)
            )
            #expect(app.status == .forbidden)

            // A credential that needs re-authorisation waits for the person.
            _ = try await world.fixture.runtime.vault.update(
                id: credential,
                tenantID: world.fixture.tenantID,
                changes: .init(status: .needsReauth),
                actor: .cli
            )
            try await refused(["credentialId": credential], .badRequest, "reconnects")
            // Nothing due for the other credentials either: this one is not counted.
            let none = try await Self.run(world, connection: connection)
            #expect(none.status == .accepted, "\(none.text)")
            #expect(try none.json["due"] as? Int == 0)

            // With the dataset turned off there is nothing to run, and the answer says how to turn it on.
            let off = try await ReferenceDataSyncTests.setSync(world, connection: connection, ["github.repos": ["enabled": false]])
            #expect(off.status == .ok)
            try await refused(nil, .badRequest, "PUT /api/v1/connections/\(connection)/sync")
            try await refused(["dataset": "github.repos"], .badRequest, "is off")
            #expect(try await AppsAPITests.auditActions(world.client, world.fixture, "connection.sync_run").count == 1)
        }
    }
}
