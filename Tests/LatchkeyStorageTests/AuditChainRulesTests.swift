import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// The database keeps each audit chain itself (migration 13): an event that does not follow its tenant's head is
/// refused whoever writes it, an inserted event moves the head, and a successful hand-out marks its credential used.
@Suite("Audit chain rules in the database")
struct AuditChainRulesTests {
    static let actor = AuditActor(id: "admin_key:test", ip: "127.0.0.1", userAgent: "tests")

    @Test(arguments: TestDatabases.kinds)
    func anEventThatDoesNotFollowTheHeadIsRefusedAndChangesNothing(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            try await runtime.audit.append(AuditRecord(actor: Self.actor.id, action: "test.first"), tenantID: tenant)
            let head = try #require(try await runtime.audit.repository.head(tenantID: tenant))

            func insert(seq: Int, prevHash: String) async throws {
                try await runtime.database.write { db in
                    try await db.raw(
                        """
                        INSERT INTO audit_events (tenant_id, seq, id, ts, actor, action, result, details, prev_hash, hash)
                        VALUES (\(bind: tenant), \(bind: seq), \(bind: NewID.make()), 0, 'x', 'test.forged', 'success', '{}',
                          \(bind: prevHash), \(bind: "forged-\(seq)"))
                        """
                    ).run()
                }
            }
            // A fork (the right place, another hash), a gap, and a rewrite of an existing place.
            await #expect(throws: (any Error).self) { try await insert(seq: head.seq + 1, prevHash: "not-the-head") }
            await #expect(throws: (any Error).self) { try await insert(seq: head.seq + 2, prevHash: head.hash) }
            await #expect(throws: (any Error).self) { try await insert(seq: head.seq, prevHash: head.hash) }
            #expect(try await runtime.audit.repository.head(tenantID: tenant)! == head)
            #expect(try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100).allSatisfy { $0.action != "test.forged" })

            // The one event that follows the head is taken and moves it.
            try await insert(seq: head.seq + 1, prevHash: head.hash)
            #expect(try await runtime.audit.repository.head(tenantID: tenant)! == (head.seq + 1, "forged-\(head.seq + 1)"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentAppendsOfSeveralTenantsAndWritersKeepEveryChainIntact(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let first = runtime.defaultTenant.id
            let second = try await runtime.tenants.createTenant(slug: "second", name: "Second", actor: Self.actor).id
            var credentials: [(tenant: String, id: String)] = []
            for tenant in [first, second] {
                let credential = try await runtime.vault.create(
                    .init(integration: "github", externalUserID: "alice", type: .oauth2, secret: .init(accessToken: "gho_\(tenant.prefix(4))")),
                    tenantID: tenant,
                    actor: Self.actor
                )
                credentials.append((tenant, credential.id))
            }
            // Group-committed reveals of both tenants, with a writer outside the group commit in between.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<40 {
                    let (tenant, id) = credentials[round % 2]
                    group.addTask { _ = try await runtime.vault.reveal(id: id, tenantID: tenant, actor: Self.actor) }
                    if round < 4 {
                        group.addTask {
                            try await runtime.audit.append(AuditRecord(actor: Self.actor.id, action: "test.other_writer"), tenantID: tenant)
                        }
                    }
                }
                try await group.waitForAll()
            }
            for tenant in [first, second] {
                let verification = try await runtime.audit.verify(tenantID: tenant)
                #expect(verification.isIntact)
                let events = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 500)
                #expect(events.filter { $0.action == "credential.reveal" }.count == 20)
                #expect(events.filter { $0.action == "test.other_writer" }.count == 2)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aSuccessfulHandOutMarksItsCredentialUsedAndNothingElseDoes(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let credential = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "alice", type: .oauth2, secret: .init(accessToken: "gho_used")),
                tenantID: tenant,
                actor: Self.actor
            )
            func lastUsed() async throws -> Date? { try await runtime.vault.get(id: credential.id, tenantID: tenant, actor: Self.actor).lastUsedAt }
            #expect(try await lastUsed() == nil)

            // A failed hand-out and other events naming the credential leave it unused.
            try await runtime.audit.append(
                AuditRecord(actor: Self.actor.id, action: "credential.token", target: credential.id, result: .failure),
                tenantID: tenant
            )
            try await runtime.audit.append(AuditRecord(actor: Self.actor.id, action: "credential.viewed", target: credential.id), tenantID: tenant)
            #expect(try await lastUsed() == nil)

            clock.advance(by: 90)
            let (fresh, secret) = try #require(try await runtime.vault.load(id: credential.id, tenantID: tenant))
            try await runtime.vault.recordTokenAccess(fresh.credential, secret: secret, actor: Self.actor)
            #expect(try await lastUsed()?.unixMilliseconds == clock.now.unixMilliseconds)

            clock.advance(by: 30)
            _ = try await runtime.vault.reveal(id: credential.id, tenantID: tenant, actor: Self.actor)
            #expect(try await lastUsed()?.unixMilliseconds == clock.now.unixMilliseconds)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anUpdateOfARowReadBeforeAHandOutKeepsItsUseMark(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let created = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "alice", type: .oauth2, secret: .init(accessToken: "gho_used")),
                tenantID: tenant,
                actor: Self.actor
            )
            // Read before the hand-out: the row as an update that runs beside it sees it.
            let (read, secret) = try #require(try await runtime.vault.load(id: created.id, tenantID: tenant))
            #expect(read.credential.lastUsedAt == nil)
            clock.advance(by: 60)
            try await runtime.vault.recordTokenAccess(read.credential, secret: secret, actor: Self.actor)
            let used = clock.now
            var changed = read.credential
            changed.label = "renamed"
            let written = try await runtime.database.write { db in
                try await CredentialRepository(database: runtime.database).updateFenced(changed, payload: read.payload, on: db)
            }
            #expect(written)
            let after = try await runtime.vault.get(id: created.id, tenantID: tenant, actor: Self.actor)
            #expect(after.label == "renamed")
            #expect(after.lastUsedAt?.unixMilliseconds == used.unixMilliseconds)
        }
    }
}
