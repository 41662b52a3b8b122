import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Degraded mode (README, "When the database is unreachable"): while the database does not answer, the token path
/// hands out what it resolved lately (authenticating keys it knew), holds the audit events and writes them when the
/// database returns; whatever it did not know, or knew too long ago, is refused with 503 and a time to retry.
@Suite("Degraded mode")
struct DegradedModeTests {
    static var alice: [String: Any] { ["integration": "gitlab", "externalUserId": "alice"] }

    static func ready(_ client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(uri: "/readyz", method: .get)
    }

    @Test(arguments: TestDatabases.kinds)
    func tokensResolvedLatelyAreHandedOutAndAuditedAfterTheOutage(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, clock in
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "bob", expiresAt: "2099-01-01T00:00:00Z")
            let before = try await TokenPathCacheTests.token(client, fixture, Self.alice)
            let token = try #require(try before.json["accessToken"] as? String)
            let database = fixture.runtime.database
            #expect(try await Self.ready(client).json["status"] as? String == "ready")

            database.simulateOutage(true)
            let outageStart = clock.now
            // A minute on: the admin key and alice's credential are known only from before the outage.
            clock.advance(by: 60)
            for _ in 0..<3 {
                let during = try await TokenPathCacheTests.token(client, fixture, Self.alice)
                #expect(during.status == .ok)
                #expect(try during.json["accessToken"] as? String == token)
            }
            // Bob's credential was never resolved here: refused, saying when to try again.
            let unknown = try await TokenPathCacheTests.token(client, fixture, ["integration": "gitlab", "externalUserId": "bob"])
            #expect(unknown.status == .serviceUnavailable)
            #expect(unknown.errorCode == "unavailable")
            #expect(unknown.headers[.retryAfter] == "5")
            #expect(unknown.text.contains("database is unreachable"))

            let ready = try await Self.ready(client)
            #expect(ready.status == .ok)
            #expect(try ready.json["status"] as? String == "degraded")
            #expect(try ready.json["heldAuditEvents"] as? Int == 3)
            #expect(fixture.runtime.vault.heldAuditEvents == 3)

            // Past the degraded lifetime (120 s by default) nothing is handed out any more.
            clock.advance(by: 61)
            let stale = try await TokenPathCacheTests.token(client, fixture, Self.alice)
            #expect(stale.status == .serviceUnavailable)
            #expect(!stale.text.contains(token))

            database.simulateOutage(false)
            await fixture.runtime.vault.flushHeldAuditEvents()
            #expect(fixture.runtime.vault.heldAuditEvents == 0)
            #expect(try await Self.ready(client).json["status"] as? String == "ready")
            let verification = try await fixture.runtime.audit.verify(tenantID: fixture.tenantID)
            #expect(verification.isIntact)
            let events = try await fixture.runtime.audit.repository.page(tenantID: fixture.tenantID, afterSeq: 0, limit: 500)
            let handouts = events.filter { $0.action == "credential.token" }
            // One before the outage, three during it, each with the time it happened.
            #expect(handouts.count == 4)
            #expect(handouts.suffix(3).allSatisfy { $0.timestamp == outageStart.addingTimeInterval(60) })
            #expect(!events.contains { $0.details.values.contains(token) })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aWriteBeforeTheOutageMakesWhatWasResolvedUnusable(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            #expect(try await TokenPathCacheTests.token(client, fixture, Self.alice).status == .ok)
            _ = try await fixture.runtime.vault.update(id: id, tenantID: fixture.tenantID, changes: .init(status: .revoked), actor: .cli)
            fixture.runtime.database.simulateOutage(true)
            let during = try await TokenPathCacheTests.token(client, fixture, Self.alice)
            #expect(during.status == .serviceUnavailable)
            #expect(during.errorCode == "unavailable")
            fixture.runtime.database.simulateOutage(false)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func callsAreRefusedOnceNoMoreAuditEventsCanBeHeld(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            #expect(try await TokenPathCacheTests.token(client, fixture, Self.alice).status == .ok)
            let database = fixture.runtime.database
            database.availability.degradedMode.heldAuditEvents = 2
            database.simulateOutage(true)
            #expect(try await TokenPathCacheTests.token(client, fixture, Self.alice).status == .ok)
            #expect(try await TokenPathCacheTests.token(client, fixture, Self.alice).status == .ok)
            let refused = try await TokenPathCacheTests.token(client, fixture, Self.alice)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.text.contains("no more audit events can be held"))
            #expect(!refused.text.contains("accessToken"))
            let ready = try await Self.ready(client)
            #expect(ready.status == .serviceUnavailable)
            #expect(try ready.json["status"] as? String == "unavailable")
            database.simulateOutage(false)
            await fixture.runtime.vault.flushHeldAuditEvents()
            let events = try await fixture.runtime.audit.repository.page(tenantID: fixture.tenantID, afterSeq: 0, limit: 500)
            #expect(events.filter { $0.action == "credential.token" }.count == 3)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func degradedModeOffRefusesEveryCallDuringAnOutage(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, clock in
            _ = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            #expect(try await TokenPathCacheTests.token(client, fixture, Self.alice).status == .ok)
            let database = fixture.runtime.database
            database.availability.degradedMode.lifetime = 0
            database.simulateOutage(true)
            // Past the normal cache lifetime (seconds), nothing is answered from memory.
            clock.advance(by: 10)
            let refused = try await TokenPathCacheTests.token(client, fixture, Self.alice)
            #expect(refused.status == .serviceUnavailable)
            #expect(try await Self.ready(client).status == .serviceUnavailable)
            database.simulateOutage(false)
        }
    }
}
