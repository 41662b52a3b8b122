import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

@Suite("Keyring and rotation contract")
struct KeyringContractTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test(arguments: TestDatabases.kinds)
    func aDifferentOrMissingMasterKeyIsRefusedEvenWithoutCredentials(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let other = KeyManager(
                database: runtime.database,
                provider: EnvironmentKeyProvider(value: MasterKey.generate().base64),
                clock: runtime.clock,
                logger: Self.logger
            )
            let mismatch = await #expect(throws: KeyError.self) { try await other.open() }
            #expect(mismatch?.description.contains("not the key this database was created with") == true)

            let missing = KeyManager(
                database: runtime.database,
                provider: KeyFileProvider(path: runtime.configuration.dataDirectory + "/nope/master.key"),
                clock: runtime.clock,
                logger: Self.logger
            )
            let error = await #expect(throws: KeyError.self) { try await missing.open() }
            #expect(error?.description.contains("no master key was found") == true)
            #expect(!FileManager.default.fileExists(atPath: runtime.configuration.dataDirectory + "/nope/master.key"))

            let same = KeyManager(database: runtime.database, provider: runtime.configuration.keyProvider, clock: runtime.clock, logger: Self.logger)
            #expect(try await same.open().keyring.activeVersion == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func rotationKeepsOldRowsReadableAndReWrapResumesFromItsSavedCursor(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            var secrets: [String: String] = [:]
            for index in 0..<250 {
                let token = "tok_\(index)_\(UUID().uuidString)"
                let credential = try await runtime.vault.create(
                    .init(integration: "github", externalUserID: "user\(index % 10)", type: .oauth2, secret: .init(accessToken: token)),
                    tenantID: tenant,
                    actor: .cli
                )
                secrets[credential.id] = token
            }
            let version = try await runtime.keyManager.rotate(runtime.keyring)
            #expect(version == 2 && runtime.keyring.activeVersion == 2)
            let fresh = try await runtime.vault.create(
                .init(integration: "github", type: .apiKey, secret: .init(apiKey: "k_new")),
                tenantID: tenant,
                actor: .cli
            )
            #expect(fresh.keyVersion == 2)
            let status = try await runtime.keyManager.status()
            #expect(status.rowsByVersion[1] == 250 && status.rowsByVersion[2] == 1)

            // First process: one batch, then it "dies".
            var configuration = runtime.configuration.rewrap
            configuration.batchSize = 100
            let first = KeyRewrapService(
                database: runtime.database,
                keyring: runtime.keyring,
                keyManager: runtime.keyManager,
                configuration: configuration,
                clock: runtime.clock,
                logger: Self.logger
            )
            #expect(try await first.runBatch() == 100)
            let saved = try #require(try await runtime.keyManager.repository.rewrapProgress())
            #expect(saved.targetVersion == 2 && saved.done == 100 && saved.total == 250 && saved.finishedAt == nil && !saved.cursor.isEmpty)
            #expect(try await runtime.keyManager.status().rowsByVersion[1] == 150)

            // A new process: fresh keyring from the database, continues from the cursor.
            let reopened = try await KeyManager(
                database: runtime.database,
                provider: runtime.configuration.keyProvider,
                clock: runtime.clock,
                logger: Self.logger
            ).open()
            let second = KeyRewrapService(
                database: runtime.database,
                keyring: reopened.keyring,
                keyManager: runtime.keyManager,
                configuration: configuration,
                clock: runtime.clock,
                logger: Self.logger
            )
            var batches = 0
            while try await second.runBatch() > 0 { batches += 1 }
            #expect(batches == 2)
            let done = try #require(try await runtime.keyManager.repository.rewrapProgress())
            #expect(done.done == 250 && done.finishedAt != nil)
            #expect(try await runtime.keyManager.status().rowsByVersion[1, default: 0] == 0)

            for (id, token) in secrets {
                let (credential, secret) = try await runtime.vault.reveal(id: id, tenantID: tenant, actor: .cli)
                #expect(secret.accessToken == token && credential.keyVersion == 2)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func reWrapDoesNotOverwriteARowChangedSinceItWasRead(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let created = try await runtime.vault.create(
                .init(integration: "github", type: .apiKey, secret: .init(apiKey: "k1")),
                tenantID: runtime.defaultTenant.id,
                actor: .cli
            )
            let stored = try #require(try await runtime.vault.credentials.find(id: created.id, tenantID: created.tenantID))
            _ = try await runtime.keyManager.rotate(runtime.keyring)
            _ = try await runtime.vault.update(
                id: created.id,
                tenantID: created.tenantID,
                changes: .init(secret: .init(apiKey: "k2")),
                actor: .cli
            )
            let moved = try await runtime.database.transaction { db in
                try await runtime.vault.credentials.rewrapFenced(
                    id: created.id,
                    version: stored.credential.version,
                    fromKeyVersion: 1,
                    payload: stored.payload,
                    toKeyVersion: 2,
                    on: db
                )
            }
            #expect(!moved)
            #expect(try await runtime.vault.reveal(id: created.id, tenantID: created.tenantID, actor: .cli).1.apiKey == "k2")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func rotatingTheMasterKeyReWrapsTheKeyringOnly(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let created = try await runtime.vault.create(
                .init(integration: "github", type: .apiKey, secret: .init(apiKey: "k1")),
                tenantID: runtime.defaultTenant.id,
                actor: .cli
            )
            let before = try #require(try await runtime.vault.credentials.find(id: created.id, tenantID: created.tenantID)).payload
            let newMaster = MasterKey.generate()
            try await runtime.keyManager.rotateMaster(runtime.keyring, to: newMaster, updateProvider: false)
            let after = try #require(try await runtime.vault.credentials.find(id: created.id, tenantID: created.tenantID)).payload
            #expect(before == after)

            let withNew = try await KeyManager(
                database: runtime.database,
                provider: EnvironmentKeyProvider(value: newMaster.base64),
                clock: runtime.clock,
                logger: Self.logger
            ).open()
            #expect(try withNew.keyring.open(after, context: created.payloadContext).count > 0)
            #expect(withNew.keyring.mac("x", purpose: "api-key-index") == runtime.keyring.mac("x", purpose: "api-key-index"))
            await #expect(throws: KeyError.self) {
                try await KeyManager(
                    database: runtime.database,
                    provider: runtime.configuration.keyProvider,
                    clock: runtime.clock,
                    logger: Self.logger
                ).open()
            }
        }
    }
}

/// Several instances share one database only on PostgreSQL (SQLite is for a single instance; its concurrent use by
/// a CLI command next to a running server is covered end to end).
@Suite("Several instances starting at once")
struct ConcurrentStartTests {
    @Test(arguments: TestDatabases.kinds.filter { $0 == .postgres })
    func instancesStartingTogetherShareOneKeyringAndOneDefaultTenant(kind: TestDatabases.Kind) async throws {
        let configuration = try TestDatabases.configuration(kind)
        let logger = KeyringContractTests.logger
        async let first = LatchkeyRuntime.bootstrap(configuration: configuration, clock: TestClock(), logger: logger)
        async let second = LatchkeyRuntime.bootstrap(configuration: configuration, clock: TestClock(), logger: logger)
        async let third = LatchkeyRuntime.bootstrap(configuration: configuration, clock: TestClock(), logger: logger)
        let runtimes = try await [first, second, third]
        #expect(Set(runtimes.map(\.defaultTenant.id)).count == 1)
        #expect(try await runtimes[0].tenants.directory.tenants().count == 1)
        let created = try await runtimes[1].vault.create(
            .init(integration: "github", type: .apiKey, secret: .init(apiKey: "shared")),
            tenantID: runtimes[1].defaultTenant.id,
            actor: .cli
        )
        for runtime in runtimes {
            #expect(try await runtime.vault.reveal(id: created.id, tenantID: created.tenantID, actor: .cli).1.apiKey == "shared")
        }
        for runtime in runtimes.dropFirst() { await runtime.database.close() }
        await TestDatabases.cleanUp(runtimes[0])
    }
}
