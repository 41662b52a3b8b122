import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

/// Re-wrap and `keys status` with rows that cannot be read: counted, reported by id, flagged, and passed over.
@Suite("Re-wrap with unreadable rows")
struct RewrapUnreadableTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test(arguments: TestDatabases.kinds)
    func unreadableRowsAreCountedReportedAndPassedOver(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            var ids: [String] = []
            for index in 0..<6 {
                let credential = try await runtime.vault.create(
                    .init(integration: "github", externalUserID: "user\(index)", type: .oauth2, secret: .init(accessToken: "tok_\(index)")),
                    tenantID: tenant,
                    actor: .cli
                )
                ids.append(credential.id)
            }
            let altered = ids[1]
            let damaged = ids[4]
            let payload = try await runtime.database.read { db in
                try await db.raw("SELECT payload FROM credentials WHERE id = \(bind: altered)").first()!.decode(column: "payload", as: Data.self)
            }
            var flipped = payload
            flipped[flipped.startIndex + 20] ^= 0x10
            try await runtime.database.write { db in
                try await db.raw("UPDATE credentials SET payload = \(bind: flipped) WHERE id = \(bind: altered)").run()
                try await db.raw("UPDATE credentials SET connection_config = 'not json' WHERE id = \(bind: damaged)").run()
            }

            _ = try await runtime.keyManager.rotate(runtime.keyring)
            var configuration = runtime.configuration.rewrap
            configuration.batchSize = 2
            let service = KeyRewrapService(
                database: runtime.database,
                keyring: runtime.keyring,
                keyManager: runtime.keyManager,
                configuration: configuration,
                clock: runtime.clock,
                logger: Self.logger
            )
            var batches = 0
            while try await service.runBatch() > 0 {
                batches += 1
                try #require(batches < 20, "re-wrap does not finish")
            }
            let progress = try #require(try await runtime.keyManager.repository.rewrapProgress())
            #expect(progress.finishedAt != nil && progress.done == 4 && progress.total == 4)

            let status = try await runtime.keyManager.status()
            #expect(status.unreadableCount == 2 && Set(status.unreadableIDs) == [altered, damaged])
            #expect(status.rowsByVersion[1] == 2 && status.rowsByVersion[2] == 4)

            let audit = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100)
            #expect(audit.contains { $0.action == "credential.decryption_failed" && $0.target == altered })
            #expect(audit.contains { $0.action == "credential.unreadable" && $0.target == damaged && $0.details["column"] == "connection_config" })
            for id in ids where id != altered && id != damaged {
                let (credential, secret) = try await runtime.vault.reveal(id: id, tenantID: tenant, actor: .cli)
                #expect(credential.keyVersion == 2 && secret.accessToken?.hasPrefix("tok_") == true)
            }
            // A second run has nothing left to do and does not count the unreadable rows again.
            #expect(try await service.runBatch() == 0)
            #expect(try await runtime.keyManager.repository.rewrapProgress()?.done == 4)
        }
    }
}
