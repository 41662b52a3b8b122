import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Synchronization
import Testing

/// The bulk seed (load tests, demos) writes the same rows as one-by-one imports, in batches, audited once.
@Suite("Bulk seed")
struct BulkSeedTests {
    static let actor = AuditActor(id: "cli")

    @Test(arguments: TestDatabases.kinds)
    func seededCredentialsAreOrdinaryCredentialsOfTheirEndUsers(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            // The integration exists (an import made it).
            _ = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "console-person", type: .oauth2, secret: .init(accessToken: "console")),
                tenantID: tenant,
                actor: Self.actor
            )
            let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: Logger(label: "test"))
            let (app, _) = try await apps.create(.init(name: "Load"), tenantID: tenant, actor: Self.actor)
            let plan = CredentialVault.SeedPlan(app: app, integrationKey: "github", count: 25, externalIDPrefix: "user-", batchSize: 10) { n in
                CredentialSecret(accessToken: "token-\(n)", refreshToken: "refresh-\(n)", tokenType: "Bearer")
            }
            let batches = Counter()
            try await runtime.vault.seedEndUsers(plan, actor: Self.actor) { done in batches.add(done) }
            #expect(batches.values == [10, 20, 25])

            let seeded = try await runtime.vault.list(tenantID: tenant, filter: .init(integrationKey: "github", limit: 100)).items
                .filter { $0.externalUserID?.hasPrefix("user-") == true }
            #expect(seeded.count == 25)
            #expect(seeded.allSatisfy { $0.isDefault && $0.status == .active && $0.endUserID != nil })
            let seventh = try #require(seeded.first { $0.externalUserID == "user-7" })
            let (_, secret) = try await runtime.vault.reveal(id: seventh.id, tenantID: tenant, actor: Self.actor)
            #expect(secret.accessToken == "token-7" && secret.refreshToken == "refresh-7")
            // One audit event for the whole seed; the chain stays intact.
            let seeds = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100, action: "credential.seed")
            #expect(seeds.count == 1 && seeds.first?.details["count"] == "25")
            #expect(try await runtime.audit.verify(tenantID: tenant).isIntact)
            // The same prefix twice is refused before anything is written.
            await #expect(throws: LatchkeyError.self) { try await runtime.vault.seedEndUsers(plan, actor: Self.actor) }
            let after = try await runtime.vault.list(tenantID: tenant, filter: .init(integrationKey: "github", limit: 100)).items
            #expect(after.count == 26)
        }
    }
}

/// Collects progress reports.
final class Counter: Sendable {
    private let storage = Mutex<[Int]>([])
    func add(_ value: Int) { storage.withLock { $0.append(value) } }
    var values: [Int] { storage.withLock { $0 } }
}
