import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

/// Re-wrap of sealed values outside `credentials`: one it cannot read stays where it is (and keeps its key from being
/// retired) without making re-wrap go round forever, and one written under the old key after re-wrap finished (by a
/// process that had not reloaded yet) is moved on the next pass.
@Suite("Re-wrap of the other sealed columns")
struct RewrapSealedColumnsTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test(arguments: TestDatabases.kinds)
    func anUnreadableValueStaysAndAValueWrittenLateUnderTheOldKeyIsMoved(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenantID = runtime.defaultTenant.id
            var integrations: [String: Integration] = [:]
            for key in ["github", "gitlab"] {
                integrations[key] = try await runtime.integrations.create(
                    .init(key: key, provider: key, clientID: "client-\(key)", clientSecret: "secret-\(key)"),
                    tenantID: tenantID,
                    actor: .cli
                )
            }
            _ = try await runtime.webhooks.setEndpoint(url: "https://hooks.example/latchkey", rotateSecret: false, tenantID: tenantID, actor: .cli)
            let gitlab = try #require(integrations["gitlab"])
            var altered = try #require(try await runtime.integrations.integrations.sealedClientSecret(id: gitlab.id, tenantID: tenantID))
            altered[altered.startIndex + 20] ^= 0x10
            try await runtime.database.write { db in
                try await db.raw("UPDATE integrations SET client_secret = \(bind: altered) WHERE id = \(bind: gitlab.id)").run()
            }
            // A process that has not noticed the rotation yet.
            let stale = try await KeyManager(
                database: runtime.database,
                provider: runtime.configuration.keyProvider,
                clock: runtime.clock,
                logger: Self.logger
            )
            .open().keyring

            _ = try await runtime.keyManager.rotate(runtime.keyring)
            let service = KeyRewrapService(
                database: runtime.database,
                keyring: runtime.keyring,
                keyManager: runtime.keyManager,
                configuration: runtime.configuration.rewrap,
                clock: runtime.clock,
                logger: Self.logger
            )
            var batches = 0
            while try await service.runBatch() > 0 {
                batches += 1
                try #require(batches < 20, "re-wrap does not finish")
            }
            #expect(try await runtime.integrations.clientSecret(of: try #require(integrations["github"])) == "secret-github")
            #expect(try await runtime.webhooks.target(tenantID: tenantID)?.secret.hasPrefix("whsec_") == true)
            #expect(try await runtime.keyManager.status().rowsByVersion[1] == 1)
            let refused = await #expect(throws: KeyError.self) { try await runtime.keyManager.retire(runtime.keyring, version: 1) }
            #expect(refused?.description.contains("still seals 1 stored value(s)") == true)
            // Nothing left that it can move: the unreadable value does not start another pass.
            #expect(try await service.runBatch() == 0)

            // The stale process writes a new webhook secret under key 1 after re-wrap finished: the next pass moves it.
            let endpointID = try await runtime.database.read { db in
                try await db.raw("SELECT id FROM webhook_endpoints").first()?.decode(column: "id", as: String.self)
            }
            let id = try #require(endpointID)
            let context = EncryptionContext(tenantID: tenantID, ownerID: tenantID, recordID: id, field: "webhook_signing_secret")
            let late = try stale.seal(Data("whsec_late".utf8), context: context)
            #expect(try Keyring.keyVersion(of: late) == 1)
            try await runtime.database.write { db in
                try await db.raw("UPDATE webhook_endpoints SET secret = \(bind: late), key_version = 1 WHERE id = \(bind: id)").run()
            }
            #expect(try await runtime.keyManager.status().rowsByVersion[1] == 2)
            #expect(try await service.runBatch() > 0)
            #expect(try await service.runBatch() == 0)
            #expect(try await runtime.keyManager.status().rowsByVersion[1] == 1)
            #expect(try await runtime.webhooks.target(tenantID: tenantID)?.secret == "whsec_late")
        }
    }
}
