import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// The storage contract, run on SQLite and (when configured) PostgreSQL.
@Suite("Vault storage contract")
struct VaultContractTests {
    static let actor = AuditActor(id: "admin_key:test", ip: "127.0.0.1", userAgent: "tests")

    static func oauth(
        _ integration: String = "github",
        user: String? = "alice",
        token: String = "gho_\(UUID().uuidString)"
    ) -> CredentialVault.NewCredential {
        .init(
            integration: integration,
            externalUserID: user,
            type: .oauth2,
            secret: .init(accessToken: token, refreshToken: "r_\(UUID().uuidString)"),
            expiresAt: Date(timeIntervalSince1970: 1_900_000_000),
            scopes: ["repo", "read:user"],
            label: "work"
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func migrationsRunOnceAndTheDefaultTenantExists(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            #expect(try await Migrations.run(on: runtime.database, logger: runtime.logger).isEmpty)
            #expect(runtime.defaultTenant.slug == "default")
            #expect(try await runtime.tenants.directory.consoleApp(tenantID: runtime.defaultTenant.id)?.kind == .console)
            #expect(try await runtime.tenants.ensureDefaultTenant().id == runtime.defaultTenant.id)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func storesReadsListsRevealsUpdatesAndDeletes(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let vault = runtime.vault
            let tenant = runtime.defaultTenant.id
            let new = Self.oauth()
            let created = try await vault.create(new, tenantID: tenant, actor: Self.actor)
            #expect(created.isDefault && created.status == .active && created.version == 1 && created.externalUserID == "alice")
            #expect(created.keyVersion == runtime.keyring.activeVersion)

            let fetched = try await vault.get(id: created.id, tenantID: tenant, actor: Self.actor)
            #expect(fetched == created)

            let second = try await vault.create(Self.oauth(user: "alice"), tenantID: tenant, actor: Self.actor)
            #expect(!second.isDefault)
            let shared = try await vault.create(Self.oauth(user: nil), tenantID: tenant, actor: Self.actor)
            #expect(shared.isDefault && shared.endUserID == nil && shared.connectionID == created.connectionID)

            let (revealed, secret) = try await vault.reveal(id: created.id, tenantID: tenant, actor: Self.actor)
            #expect(secret == new.secret)
            #expect(revealed.lastUsedAt != nil)

            let updated = try await vault.update(
                id: second.id,
                tenantID: tenant,
                changes: .init(label: .some("personal"), isDefault: true, secret: .init(accessToken: "rotated")),
                actor: Self.actor
            )
            #expect(updated.label == "personal" && updated.version == 2)
            let (_, afterUpdate) = try await vault.reveal(id: second.id, tenantID: tenant, actor: Self.actor)
            #expect(afterUpdate.accessToken == "rotated" && afterUpdate.refreshToken != nil)
            #expect(try await vault.get(id: created.id, tenantID: tenant, actor: Self.actor).isDefault == false)
            #expect(try await vault.get(id: second.id, tenantID: tenant, actor: Self.actor).isDefault == true)

            try await vault.delete(id: created.id, tenantID: tenant, actor: Self.actor)
            await #expect(throws: LatchkeyError.notFound("credential")) { try await vault.get(id: created.id, tenantID: tenant, actor: Self.actor) }
            await #expect(throws: LatchkeyError.notFound("credential")) {
                try await vault.delete(id: created.id, tenantID: tenant, actor: Self.actor)
            }

            let actions = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 100).map(\.action)
            #expect(actions.filter { $0 == "credential.create" }.count == 3)
            #expect(actions.filter { $0 == "credential.reveal" }.count == 2)
            #expect(actions.contains("credential.update") && actions.contains("credential.delete"))
            #expect(try await runtime.audit.verify(tenantID: tenant).isIntact)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentImportsForANewIntegrationAndUserAllSucceed(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let ids = try await withThrowingTaskGroup(of: Credential.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await runtime.vault.create(
                            .init(integration: "gitlab", externalUserID: "carol", type: .apiKey, secret: .init(apiKey: "k\(index)")),
                            tenantID: tenant,
                            actor: Self.actor
                        )
                    }
                }
                return try await group.reduce(into: [Credential]()) { $0.append($1) }
            }
            #expect(ids.count == 8)
            #expect(Set(ids.map(\.connectionID)).count == 1)
            #expect(Set(ids.map(\.endUserID)).count == 1)
            let stored = try await runtime.vault.list(tenantID: tenant, filter: .init(integrationKey: "gitlab")).items
            #expect(stored.count == 8)
            #expect(stored.filter(\.isDefault).count == 1 && ids.filter(\.isDefault).count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentRevealsAreEachAuditedInOneIntactChain(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let other = try await runtime.tenants.createTenant(slug: "other", name: "Other", actor: .cli)
            let mine = try await runtime.vault.create(Self.oauth(token: "mine"), tenantID: tenant, actor: Self.actor)
            let theirs = try await runtime.vault.create(Self.oauth(token: "theirs"), tenantID: other.id, actor: Self.actor)
            let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        let (id, owner) = index % 3 == 0 ? (theirs.id, other.id) : (mine.id, tenant)
                        return try await runtime.vault.reveal(id: id, tenantID: owner, actor: Self.actor).1.accessToken
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(tokens.filter { $0 == "mine" }.count == 40 && tokens.filter { $0 == "theirs" }.count == 20)
            for (tenantID, expected) in [(tenant, 40), (other.id, 20)] {
                let verification = try await runtime.audit.verify(tenantID: tenantID)
                #expect(verification.isIntact)
                let reveals = try await runtime.audit.repository.page(tenantID: tenantID, afterSeq: 0, limit: 500, action: "credential.reveal")
                #expect(reveals.count == expected && Set(reveals.map(\.seq)).count == expected)
            }
            #expect(try await runtime.vault.get(id: mine.id, tenantID: tenant, actor: Self.actor).lastUsedAt != nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func listsPageByCursorAndFilter(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            var ids: Set<String> = []
            for index in 0..<7 {
                ids.insert(
                    try await runtime.vault.create(
                        Self.oauth(index < 5 ? "github" : "slack", user: "u\(index % 3)"),
                        tenantID: tenant,
                        actor: Self.actor
                    ).id
                )
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await runtime.vault.list(tenantID: tenant, filter: .init(limit: 3, cursor: cursor))
                #expect(page.items.count <= 3)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 7 && Set(seen) == ids)
            #expect(try await runtime.vault.list(tenantID: tenant, filter: .init(integrationKey: "slack")).items.count == 2)
            #expect(try await runtime.vault.list(tenantID: tenant, filter: .init(externalUserID: "u0")).items.count == 3)
            #expect(try await runtime.vault.list(tenantID: tenant, filter: .init(status: .needsReauth)).items.isEmpty)
            await #expect(throws: LatchkeyError.self) { try await runtime.vault.list(tenantID: tenant, filter: .init(cursor: "%%%")) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aStaleVersionCannotOverwriteANewerRow(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let created = try await runtime.vault.create(Self.oauth(), tenantID: runtime.defaultTenant.id, actor: Self.actor)
            let stored = try #require(try await runtime.vault.credentials.find(id: created.id, tenantID: created.tenantID))
            var first = stored.credential
            first.label = "first"
            var stale = stored.credential
            stale.label = "stale"
            #expect(
                try await runtime.database.transaction { try await runtime.vault.credentials.updateFenced(first, payload: stored.payload, on: $0) }
            )
            #expect(
                try await !runtime.database.transaction { try await runtime.vault.credentials.updateFenced(stale, payload: stored.payload, on: $0) }
            )
            #expect(try await runtime.vault.get(id: created.id, tenantID: created.tenantID, actor: Self.actor).label == "first")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anotherTenantSeesNothingAndTheProbeIsAudited(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let other = try await runtime.tenants.createTenant(slug: "acme", name: "Acme", actor: .cli)
            let alice = try await runtime.vault.create(Self.oauth(), tenantID: runtime.defaultTenant.id, actor: Self.actor)
            await #expect(throws: LatchkeyError.notFound("credential")) {
                try await runtime.vault.reveal(id: alice.id, tenantID: other.id, actor: Self.actor)
            }
            await #expect(throws: LatchkeyError.notFound("credential")) {
                try await runtime.vault.delete(id: alice.id, tenantID: other.id, actor: Self.actor)
            }
            #expect(try await runtime.vault.list(tenantID: other.id, filter: .init()).items.isEmpty)
            let probes = try await runtime.audit.repository.page(tenantID: other.id, afterSeq: 0, limit: 10, action: "credential.access_denied")
            #expect(probes.count == 2 && probes.allSatisfy { $0.target == alice.id && $0.result == "denied" })
            #expect(try await runtime.vault.get(id: alice.id, tenantID: runtime.defaultTenant.id, actor: Self.actor).id == alice.id)
            await #expect(throws: LatchkeyError.self) { try await runtime.tenants.createTenant(slug: "acme", name: "again", actor: .cli) }
            await #expect(throws: LatchkeyError.self) { try await runtime.tenants.createTenant(slug: "Bad Slug", name: "x", actor: .cli) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAlteredOrMovedCiphertextIsRefusedAndAudited(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let a = try await runtime.vault.create(Self.oauth(user: "alice"), tenantID: tenant, actor: Self.actor)
            let b = try await runtime.vault.create(Self.oauth(user: "bob"), tenantID: tenant, actor: Self.actor)
            let storedA = try #require(try await runtime.vault.credentials.find(id: a.id, tenantID: tenant))

            // Bob's row gets Alice's ciphertext.
            try await runtime.database.write { db in
                try await db.raw("UPDATE credentials SET payload = \(bind: storedA.payload) WHERE id = \(bind: b.id)").run()
            }
            await #expect(throws: LatchkeyError.decryptionFailed) { try await runtime.vault.reveal(id: b.id, tenantID: tenant, actor: Self.actor) }

            // A flipped bit in Alice's own ciphertext (nonce, body, tag), and an unknown key version.
            for position in [7, 30, storedA.payload.count - 1] {
                var flipped = storedA.payload
                flipped[flipped.startIndex + position] ^= 0x04
                try await runtime.database.write { db in
                    try await db.raw("UPDATE credentials SET payload = \(bind: flipped) WHERE id = \(bind: a.id)").run()
                }
                await #expect(throws: LatchkeyError.decryptionFailed) {
                    try await runtime.vault.reveal(id: a.id, tenantID: tenant, actor: Self.actor)
                }
            }
            var unknownVersion = storedA.payload
            unknownVersion[unknownVersion.startIndex + 4] = 42
            try await runtime.database.write { db in
                try await db.raw("UPDATE credentials SET payload = \(bind: unknownVersion) WHERE id = \(bind: a.id)").run()
            }
            await #expect(throws: LatchkeyError.decryptionFailed) { try await runtime.vault.reveal(id: a.id, tenantID: tenant, actor: Self.actor) }

            let failures = try await runtime.audit.repository.page(tenantID: tenant, afterSeq: 0, limit: 50, action: "credential.reveal")
                .filter { $0.result == "failure" }
            #expect(failures.count == 5)
            #expect(failures.allSatisfy { $0.details["reason"] == "decryption_failed" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func verifyFindsEditedDeletedAndTruncatedAuditRows(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            for _ in 0..<5 { _ = try await runtime.vault.create(Self.oauth(), tenantID: tenant, actor: Self.actor) }
            #expect(try await runtime.audit.verify(tenantID: tenant).isIntact)

            try await runtime.database.write { db in
                try await db.raw("UPDATE audit_events SET actor = 'nobody' WHERE tenant_id = \(bind: tenant) AND seq = 3").run()
            }
            let edited = try await runtime.audit.verify(tenantID: tenant)
            #expect(edited.problems.contains(.init(kind: .edited, seq: 3)))

            try await runtime.database.write { db in
                try await db.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq = 3").run()
            }
            #expect(try await runtime.audit.verify(tenantID: tenant).problems.contains(.init(kind: .missing, seq: 4)))

            try await runtime.database.write { db in
                try await db.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq >= 5").run()
            }
            #expect(try await runtime.audit.verify(tenantID: tenant).problems.contains { $0.kind == .truncated })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func adminKeysAreFoundByHMACOnlyAndCanBeRevoked(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let (key, plaintext) = try await runtime.tenants.createAdminKey(tenantID: tenant, name: "ci", actor: .cli)
            #expect(plaintext.hasPrefix("lk_live_") && plaintext.count >= 50)
            #expect(try await runtime.tenants.authenticateAdminKey(plaintext)?.id == key.id)
            #expect(try await runtime.tenants.authenticateAdminKey(plaintext + "x") == nil)
            #expect(try await runtime.tenants.authenticateAdminKey("lk_app_" + plaintext.dropFirst(8)) == nil)
            let stored = try await runtime.database.read { db in
                try await db.raw("SELECT key_hash, prefix FROM admin_keys").all().map { try $0.decode(column: "key_hash", as: String.self) }
            }
            #expect(stored.count == 1 && !stored[0].contains(plaintext.dropFirst(12)))
            #expect(try await runtime.tenants.revokeAdminKey(id: key.id, tenantID: tenant, actor: .cli))
            #expect(try await runtime.tenants.authenticateAdminKey(plaintext) == nil)
            #expect(try await !runtime.tenants.revokeAdminKey(id: key.id, tenantID: tenant, actor: .cli))
        }
    }

    @Test func aKeyRevokedByAnotherInstanceStopsWorkingWhenTheCacheEntryExpires() async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(.sqlite, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let (key, plaintext) = try await runtime.tenants.createAdminKey(tenantID: tenant, name: "ci", actor: .cli)
            #expect(try await runtime.tenants.authenticateAdminKey(plaintext)?.id == key.id)
            // Revoked elsewhere: straight in the database, this instance's cache does not know.
            #expect(try await runtime.tenants.adminKeys.revoke(id: key.id, tenantID: tenant, now: clock.now))
            clock.advance(by: 4)
            #expect(try await runtime.tenants.authenticateAdminKey(plaintext)?.id == key.id)
            clock.advance(by: 2)
            #expect(try await runtime.tenants.authenticateAdminKey(plaintext) == nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theSetupTokenWorksOnce(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let token = try #require(try await runtime.tenants.issueSetupToken(tenantID: tenant))
            #expect(try await runtime.tenants.setupTokenIsValid(token, tenantID: tenant))
            #expect(try await !runtime.tenants.setupTokenIsValid("other", tenantID: tenant))
            _ = try await runtime.tenants.completeSetup(
                token: token,
                tenantID: tenant,
                email: "a@example.com",
                displayName: "A",
                passwordHash: "$2b$12$x",
                actor: .cli
            )
            await #expect(throws: LatchkeyError.self) {
                try await runtime.tenants.completeSetup(
                    token: token,
                    tenantID: tenant,
                    email: "b@example.com",
                    displayName: "B",
                    passwordHash: "$2b$12$x",
                    actor: .cli
                )
            }
            #expect(try await runtime.tenants.issueSetupToken(tenantID: tenant) == nil)
            #expect(try await runtime.tenants.users.adminExists(tenantID: tenant))
        }
    }
}
