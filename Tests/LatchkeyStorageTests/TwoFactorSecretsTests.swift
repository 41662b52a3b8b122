import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

/// TOTP secrets at rest: sealed with the keyring, bound to their person, moved by re-wrap after a key rotation.
@Suite("Two-factor secrets at rest")
struct TwoFactorSecretsTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test(arguments: TestDatabases.kinds)
    func aSecretIsSealedForItsPersonAndSurvivesARotation(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenantID = runtime.defaultTenant.id
            let secrets = TwoFactorSecrets(database: runtime.database, keyring: runtime.keyring, clock: runtime.clock)
            let secret = Array(repeating: UInt8(7), count: 20)
            #expect(try await secrets.enrolmentSecret(userID: "alice", tenantID: tenantID, fresh: secret) == secret)
            #expect(try await secrets.enable(userID: "alice", tenantID: tenantID, step: 10))
            #expect(try await secrets.enrolmentSecret(userID: "alice", tenantID: tenantID, fresh: secret) == nil)
            #expect(try await secrets.use(userID: "alice", tenantID: tenantID, step: 10) == false)
            #expect(try await secrets.use(userID: "alice", tenantID: tenantID, step: 11))

            // Copied to another person's row, the ciphertext does not open.
            _ = try await secrets.enrolmentSecret(userID: "bob", tenantID: tenantID, fresh: Array(repeating: 9, count: 20))
            try await runtime.database.write { db in
                try await db.raw(
                    "UPDATE totp_secrets SET secret = (SELECT secret FROM totp_secrets WHERE user_id = 'alice') WHERE user_id = 'bob'"
                ).run()
            }
            await #expect(throws: CiphertextError.self) { _ = try await secrets.secret(userID: "bob", tenantID: tenantID) }

            try await runtime.database.write { db in try await db.raw("DELETE FROM totp_secrets WHERE user_id = 'bob'").run() }
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
            let version = try await runtime.database.read { db in
                try await db.raw("SELECT key_version FROM totp_secrets WHERE user_id = 'alice'").first()?.decode(column: "key_version", as: Int.self)
            }
            #expect(version == runtime.keyring.activeVersion)
            let reopened = try #require(try await secrets.secret(userID: "alice", tenantID: tenantID))
            #expect(reopened.secret == secret && reopened.enabled && reopened.lastStep == 11)
        }
    }
}
