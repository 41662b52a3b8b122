import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

/// Audit retention: events older than the retention are pruned behind a signed checkpoint, and the chain still
/// verifies from it; a checkpoint that was edited, forged or deleted is caught.
@Suite("Audit retention")
struct AuditRetentionTests {
    static let day: TimeInterval = 86_400

    /// Old events, then (after `age` days) new ones: answers how many were old and the last old event's seq.
    static func ageChain(_ runtime: LatchkeyRuntime, clock: TestClock, age: Double) async throws -> (old: Int, lastOld: Int) {
        let tenant = runtime.defaultTenant.id
        for index in 0..<3 {
            try await runtime.audit.append(AuditRecord(actor: "cli", action: "test.old", details: ["n": "\(index)"]), tenantID: tenant)
        }
        let head = try #require(try await runtime.audit.repository.head(tenantID: tenant))
        clock.advance(by: age * day)
        for _ in 0..<2 { try await runtime.audit.append(AuditRecord(actor: "cli", action: "test.new"), tenantID: tenant) }
        return (head.seq, head.seq)
    }

    static func service(_ runtime: LatchkeyRuntime, clock: TestClock, days: Int = 400) -> AuditRetentionService {
        AuditRetentionService(
            retention: AuditRetention(database: runtime.database, keyring: runtime.keyring, clock: clock),
            retentionDays: days,
            clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func oldEventsArePrunedBehindASignedCheckpointAndTheChainStillVerifies(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let (old, lastOld) = try await Self.ageChain(runtime, clock: clock, age: 401)
            let service = Self.service(runtime, clock: clock)

            #expect(try await service.runOnce() == old)
            let remaining = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100)
            #expect(remaining.map(\.action) == ["test.new", "test.new"])
            let verification = try await runtime.audit.verify(tenantID: tenant)
            #expect(verification.isIntact && verification.count == 2)
            let checkpoint = try #require(verification.checkpoint)
            #expect(checkpoint.seq == lastOld && checkpoint.pruned == old && checkpoint.isAuthentic(under: runtime.keyring))

            // Nothing more is old enough: no second checkpoint. New events keep linking after the pruned ones.
            #expect(try await service.runOnce() == 0)
            try await runtime.audit.append(AuditRecord(actor: "cli", action: "test.later"), tenantID: tenant)
            let again = try await runtime.audit.verify(tenantID: tenant)
            #expect(again.isIntact && again.count == 3 && again.checkpoint == checkpoint)

            // The export still works and starts at the first kept event.
            var exported = ""
            try await AuditExport.write(audit: runtime.audit, tenantID: tenant, format: .jsonl) { exported += $0 }
            #expect(exported.split(separator: "\n").count == 3 && !exported.contains("test.old"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func eventsWithinTheRetentionStayAndAPruneStopsAtTheFirstYoungEvent(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            _ = try await Self.ageChain(runtime, clock: clock, age: 399)
            let before = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100)
            #expect(try await Self.service(runtime, clock: clock).runOnce() == 0)
            #expect(try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100) == before)
            #expect(try await runtime.audit.verify(tenantID: tenant).checkpoint == nil)

            // Pruning in small batches records one checkpoint a batch; the chain verifies from the newest.
            clock.advance(by: 2 * Self.day)
            let retention = AuditRetention(database: runtime.database, keyring: runtime.keyring, clock: clock)
            let pruned = try await retention.prune(tenantID: tenant, before: clock.now.addingTimeInterval(-400 * Self.day), batchSize: 1)
            #expect(pruned == before.count - 2)
            let verification = try await runtime.audit.verify(tenantID: tenant)
            #expect(verification.isIntact && verification.count == 2 && verification.checkpoint?.seq == before[before.count - 3].seq)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anEditedForgedOrDeletedCheckpointFailsVerification(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            _ = try await Self.ageChain(runtime, clock: clock, age: 500)
            try await Self.service(runtime, clock: clock).runOnce()
            let checkpoint = try #require(try await runtime.audit.verify(tenantID: tenant).checkpoint)
            func execute(_ sql: SQLQueryString) async throws { try await runtime.database.write { try await $0.raw(sql).run() } }

            // The pruned count changed: the signature no longer holds.
            try await execute("UPDATE audit_checkpoints SET pruned = pruned + 1 WHERE tenant_id = \(bind: tenant)")
            let edited = try await runtime.audit.verify(tenantID: tenant)
            #expect(!edited.isIntact && edited.problems.map(\.kind) == [.checkpoint])

            // A checkpoint re-signed under another keyring is a forgery.
            let master = MasterKey.generate()
            let other = try Keyring(
                master: master,
                keys: [
                    try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: 1, master: master, createdAt: clock.now),
                    try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .hmac, version: 1, master: master, createdAt: clock.now),
                ],
                activeVersion: 1
            )
            let forged = checkpoint.signed(with: other)
            try await execute(
                "UPDATE audit_checkpoints SET pruned = \(bind: checkpoint.pruned), signature = \(bind: forged.signature) WHERE tenant_id = \(bind: tenant)"
            )
            #expect(try await runtime.audit.verify(tenantID: tenant).problems.map(\.kind) == [.checkpoint])

            // Without its checkpoint, the pruned start of the chain shows as missing events.
            try await execute("DELETE FROM audit_checkpoints WHERE tenant_id = \(bind: tenant)")
            let deleted = try await runtime.audit.verify(tenantID: tenant)
            #expect(!deleted.isIntact && deleted.checkpoint == nil && deleted.problems.first?.kind == .missing)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theAPIVerificationNamesTheCheckpointItStartsFrom(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let fresh = try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: fixture.headers)
            #expect(fresh.status == .ok)
            #expect(try fresh.json["intact"] as? Bool == true && (try fresh.json["checkpoint"]) is NSNull)

            let (old, lastOld) = try await Self.ageChain(fixture.runtime, clock: clock, age: 401)
            #expect(try await Self.service(fixture.runtime, clock: clock).runOnce() == old)
            let pruned = try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: fixture.headers).json
            let checkpoint = try #require(pruned["checkpoint"] as? [String: Any])
            #expect(pruned["intact"] as? Bool == true && checkpoint["seq"] as? Int == lastOld && checkpoint["pruned"] as? Int == old)

            try await fixture.runtime.database.write {
                try await $0.raw("UPDATE audit_checkpoints SET hash = \(bind: String(repeating: "0", count: 64))").run()
            }
            let tampered = try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: fixture.headers).json
            let problems = try #require(tampered["problems"] as? [[String: Any]])
            #expect(tampered["intact"] as? Bool == false && problems.first?["kind"] as? String == "checkpoint")
        }
    }

    @Test func theRetentionIsASettingOfDays() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.auditRetentionDays == 400)
        try configuration.applyEnvironment(["LATCHKEY_AUDIT_RETENTION_DAYS": "30"])
        #expect(configuration.auditRetentionDays == 30)
        for value in ["0", "thirty", "36501"] {
            #expect(throws: ConfigurationError.self) { try configuration.applyEnvironment(["LATCHKEY_AUDIT_RETENTION_DAYS": value]) }
        }
    }
}
