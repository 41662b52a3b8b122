import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The audit group commit moves a tenant's chain head with one conditional statement while it is the only writer,
/// and reads and locks the head again whenever another writer moved it in between.
@Suite("Audit group commit")
struct AuditGroupCommitTests {
    static let actor = AuditActor(id: "admin_key:test", ip: "127.0.0.1", userAgent: "tests")

    @Test(arguments: TestDatabases.kinds)
    func batchesAndOtherWritersInterleaveIntoOneIntactChain(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let credential = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "alice", type: .oauth2, secret: .init(accessToken: "gho_one")),
                tenantID: tenant,
                actor: Self.actor
            )
            var expected: [String] = []
            for round in 0..<4 {
                // Group-committed (the writer then knows the head it left) ...
                _ = try await runtime.vault.reveal(id: credential.id, tenantID: tenant, actor: Self.actor)
                _ = try await runtime.vault.reveal(id: credential.id, tenantID: tenant, actor: Self.actor)
                expected += ["credential.reveal", "credential.reveal"]
                // ... then a writer that is not the group commit moves the head behind its back.
                try await runtime.audit.append(AuditRecord(actor: Self.actor, action: "test.other_writer", target: "\(round)"), tenantID: tenant)
                expected.append("test.other_writer")
            }
            _ = try await runtime.vault.reveal(id: credential.id, tenantID: tenant, actor: Self.actor)
            expected.append("credential.reveal")

            let verification = try await runtime.audit.verify(tenantID: tenant)
            #expect(verification.isIntact)
            let events = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 500)
            let tail = events.filter { $0.action == "credential.reveal" || $0.action == "test.other_writer" }.map(\.action)
            #expect(tail == expected)
            #expect(events.map(\.seq) == Array(1...events.count))
        }
    }
}
