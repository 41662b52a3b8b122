import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Incident response through `/api/v1/incidents`: a dry run that changes nothing, a confirmation phrase, revocation
/// at the provider then deletion, counts that say what was done, a run resumed after an interruption, and a forced
/// refresh of an integration's credentials. GitLab is played by the fake provider; GitHub is not on the network, so
/// its revocation fails.
@Suite("Incidents API")
struct IncidentsAPITests {
    typealias World = ConnectFlowTests.World

    /// Alice connects GitLab through the console (tokens the fake issued); Bob's GitLab and Carol's GitHub tokens are
    /// imported (the fake does not know Bob's refresh token).
    static func seed(_ world: World) async throws -> (alice: Credential, secrets: [String]) {
        let fixture = world.fixture
        _ = try await fixture.runtime.integrations.create(
            .init(key: "github", provider: "github", clientID: "gh-client", clientSecret: "gh-secret"),
            tenantID: fixture.tenantID,
            actor: .cli
        )
        let callback = try await world.fake.authorize(url: try await ConnectFlowTests.start(world, key: "gitlab"))
        _ = try await world.browser.get(WebBrowser.pathAndQuery(callback))
        let alice = try #require(try await ConnectFlowTests.credentials(world).first)
        let (_, aliceSecret) = try await fixture.runtime.vault.reveal(id: alice.id, tenantID: fixture.tenantID, actor: .cli)
        for (integration, user, token) in [("gitlab", "bob", "glr_bob_secret"), ("github", "carol", "gho_carol_secret")] {
            let created = try await world.browser.client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": integration, "externalUserId": user, "type": "oauth2", "accessToken": token, "refreshToken": token])
            )
            #expect(created.status == .created)
        }
        return (alice, [try #require(aliceSecret.refreshToken), try #require(aliceSecret.accessToken), "glr_bob_secret", "gho_carol_secret"])
    }

    static func count(_ world: World) async throws -> Int {
        try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init(limit: 200)).items.count
    }

    static func post(_ world: World, _ path: String, _ object: [String: Any]) async throws -> TestResponse {
        try await world.browser.client.execute(uri: path, method: .post, headers: world.fixture.headers, body: try body(object))
    }

    @Test(arguments: TestDatabases.kinds)
    func aDryRunChangesNothingAndARunRevokesAtTheProviderThenDeletes(kind: TestDatabases.Kind) async throws {
        try await ConnectFlowTests.withWorld(kind, provider: "gitlab") { world in
            let (alice, secrets) = try await Self.seed(world)
            #expect(try await Self.count(world) == 3)
            await world.fake.clearRequests()

            let dry = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "integration", "integration": "gitlab", "dryRun": true])
            #expect(dry.status == .ok)
            #expect(
                try dry.json["total"] as? Int == 2 && dry.json["dryRun"] as? Bool == true && dry.json["confirmationPhrase"] as? String == "gitlab"
            )
            let counts = try #require(try dry.json["byIntegration"] as? [[String: Any]])
            #expect(counts.count == 1 && counts[0]["integration"] as? String == "gitlab" && counts[0]["credentials"] as? Int == 2)
            #expect(try await Self.count(world) == 3)
            #expect(await world.fake.requests.isEmpty)

            // A wrong phrase: 400 naming the phrase to type, and nothing revoked.
            let wrong = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "integration", "integration": "gitlab", "confirm": "yes"])
            #expect(wrong.status == .badRequest && wrong.errorCode == "invalid_request" && wrong.errorFields == ["confirm"])
            #expect(wrong.text.contains("type \\\"gitlab\\\" to confirm"))
            let missing = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "integration", "integration": "gitlab"])
            #expect(missing.status == .badRequest && missing.errorFields == ["confirm"])
            let unknown = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "integration", "integration": "nope", "dryRun": true])
            #expect(unknown.status == .badRequest && unknown.errorFields == ["integration"])
            let badScope = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "everything", "dryRun": true])
            #expect(badScope.status == .badRequest && badScope.errorFields == ["scope"])
            #expect(try await Self.count(world) == 3)
            #expect(await world.fake.requests.isEmpty)

            let run = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "integration", "integration": "gitlab", "confirm": "gitlab"])
            #expect(run.status == .ok)
            let job = try run.json
            #expect(job["status"] as? String == "done" && job["total"] as? Int == 2 && job["processed"] as? Int == 2)
            #expect(job["revoked"] as? Int == 2 && job["revocationFailed"] as? Int == 0)
            // Revoked at GitLab (Alice's refresh token, which the fake issued), then deleted; Carol's GitHub stays.
            #expect(await world.fake.revokedTokens.contains(secrets[0]))
            let left = try await world.fixture.runtime.vault.list(tenantID: world.fixture.tenantID, filter: .init(limit: 200)).items
            #expect(left.map(\.integrationKey) == ["github"])
            #expect(!left.contains { $0.id == alice.id })
            let id = try #require(job["id"] as? String)
            let shown = try await world.browser.client.execute(uri: "/api/v1/incidents/jobs/\(id)", method: .get, headers: world.fixture.headers)
            #expect(try shown.json["status"] as? String == "done" && shown.json["processed"] as? Int == 2)

            // The whole tenant: GitHub is unreachable, so its revocation fails; it is deleted and counted as such.
            let wrongTenant = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "tenant", "confirm": "gitlab"])
            #expect(wrongTenant.status == .badRequest && wrongTenant.text.contains("revoke everything"))
            let all = try await Self.post(world, "/api/v1/incidents/revoke", ["scope": "tenant", "confirm": "revoke everything"])
            #expect(try all.json["status"] as? String == "done" && all.json["processed"] as? Int == 1 && all.json["revocationFailed"] as? Int == 1)
            #expect(try await Self.count(world) == 0)

            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            #expect(events.filter { $0.action == "incident.revoke_start" }.count == 2)
            let finished = events.filter { $0.action == "incident.revoke_finish" }
            #expect(finished.map { $0.details["deleted"] } == ["2", "1"])
            #expect(finished.last?.details["revocation_failed"] == "1")
            #expect(events.filter { $0.action == "credential.delete" }.count == 3)
            // No secret in the answers or the audit log.
            let listed = try await world.browser.client.execute(uri: "/api/v1/incidents/jobs", method: .get, headers: world.fixture.headers)
            #expect(try (listed.json["items"] as? [Any])?.count == 2)
            let recorded = events.map { "\($0.details) \($0.target ?? "")" }.joined()
            for secret in secrets {
                #expect(!recorded.contains(secret) && !run.text.contains(secret) && !all.text.contains(secret) && !dry.text.contains(secret))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aRunCutShortResumesAfterTheLastCredentialItDeleted(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await ConnectFlowTests.withWorld(kind, provider: "gitlab", clock: clock) { world in
            _ = try await Self.seed(world)
            let fixture = world.fixture
            let jobs = IncidentJobRepository(database: fixture.runtime.database)
            // A run killed after its first credential: left running, its lease held until a minute from now.
            let ids = try await jobs.credentialIDs(.integration("gitlab"), tenantID: fixture.tenantID, after: "", limit: 10)
            #expect(ids.count == 2)
            try await fixture.runtime.vault.delete(id: ids[0], tenantID: fixture.tenantID, actor: .cli)
            var job = IncidentJob(
                id: NewID.make(),
                tenantID: fixture.tenantID,
                scope: .integration("gitlab"),
                total: 2,
                actor: "cli",
                startedAt: clock.now
            )
            try await jobs.insert(job)
            job.record(.revoked, credentialID: ids[0])
            job.leaseUntil = clock.now.addingTimeInterval(60)
            try await jobs.save(job)

            // While the lease holds (another process may be at it), reading the job does not run it.
            let held = try await world.browser.client.execute(uri: "/api/v1/incidents/jobs/\(job.id)", method: .get, headers: fixture.headers)
            #expect(try held.json["status"] as? String == "running" && held.json["processed"] as? Int == 1)
            #expect(try await Self.count(world) == 2)

            // Once it lapses, the next call resumes it after the cursor: the second GitLab credential, not the first again.
            clock.advance(by: 61)
            let resumed = try await world.browser.client.execute(uri: "/api/v1/incidents/jobs/\(job.id)", method: .get, headers: fixture.headers)
            #expect(try resumed.json["status"] as? String == "done" && resumed.json["processed"] as? Int == 2 && resumed.json["revoked"] as? Int == 2)
            let left = try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init(limit: 200)).items
            #expect(left.map(\.integrationKey) == ["github"])
            let finish = try await fixture.runtime.audit.repository.page(tenantID: fixture.tenantID, afterSeq: nil, limit: 500)
                .filter { $0.action == "incident.revoke_finish" }
            #expect(finish.count == 1 && finish.first?.details["deleted"] == "2")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aRunCutShortIsResumedWithoutARequestOnceItsLeaseLapses(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await ConnectFlowTests.withWorld(kind, provider: "gitlab", clock: clock) { world in
            _ = try await Self.seed(world)
            let fixture = world.fixture
            let runtime = fixture.runtime
            let incidents = runtime.incidentResponse(outbound: runtime.outboundServices(transport: FakeNetwork([world.fake])))
            // A run killed before its first credential was deleted: left running, its lease held for a minute.
            var job = IncidentJob(
                id: NewID.make(),
                tenantID: fixture.tenantID,
                scope: .integration("gitlab"),
                total: 2,
                actor: "cli",
                startedAt: clock.now
            )
            try await incidents.jobs.insert(job)
            job.leaseUntil = clock.now.addingTimeInterval(60)
            try await incidents.jobs.save(job)

            // The periodic look (what `IncidentResumeService` does at start and once per lease) leaves a held run alone.
            #expect(try await incidents.resumeAllInterrupted().isEmpty)
            #expect(try await incidents.jobs.find(id: job.id, tenantID: fixture.tenantID)?.status == .running)

            clock.advance(by: 61)
            let resumed = try await incidents.resumeAllInterrupted()
            #expect(resumed.map(\.id) == [job.id])
            let done = try #require(try await incidents.jobs.find(id: job.id, tenantID: fixture.tenantID))
            #expect(done.status == .done && done.processed == 2 && done.revoked == 2 && done.leaseUntil == nil)
            let left = try await runtime.vault.list(tenantID: fixture.tenantID, filter: .init(limit: 200)).items
            #expect(left.map(\.integrationKey) == ["github"])
            let finish = try await runtime.audit.repository.page(tenantID: fixture.tenantID, afterSeq: nil, limit: 500)
                .filter { $0.action == "incident.revoke_finish" }
            #expect(finish.map(\.actor) == ["system:incident"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aForcedRefreshCountsWhatHappened(kind: TestDatabases.Kind) async throws {
        try await ConnectFlowTests.withWorld(kind, provider: "gitlab") { world in
            let (alice, _) = try await Self.seed(world)
            let before = try await world.fixture.runtime.vault.get(id: alice.id, tenantID: world.fixture.tenantID, actor: .cli)
            let refreshed = try await Self.post(world, "/api/v1/incidents/refresh", ["integration": "gitlab"])
            #expect(refreshed.status == .ok)
            // Alice's token is refreshed; Bob's refresh token is unknown to GitLab, so he must reconnect.
            #expect(try refreshed.json["refreshed"] as? Int == 1 && refreshed.json["needsReauth"] as? Int == 1)
            #expect(try refreshed.json["failed"] as? Int == 0 && refreshed.json["skipped"] as? Int == 0)
            let after = try await world.fixture.runtime.vault.get(id: alice.id, tenantID: world.fixture.tenantID, actor: .cli)
            #expect(after.version > before.version && after.status == .active)
            let unknown = try await Self.post(world, "/api/v1/incidents/refresh", ["integration": "slack"])
            #expect(unknown.status == .badRequest && unknown.errorFields == ["integration"])
            let events = try await world.fixture.runtime.audit.repository.page(tenantID: world.fixture.tenantID, afterSeq: nil, limit: 500)
            let event = try #require(events.first { $0.action == "incident.refresh" })
            #expect(event.details["refreshed"] == "1" && event.details["needs_reauth"] == "1" && event.service == "gitlab")
        }
    }
}
