import Foundation
import HTTPTypes
import Hummingbird
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

/// Crypto-shredding: a person's identifiers in audit events are stored sealed under a key of theirs, read in clear
/// while it exists, and read `erased` once their erasure destroyed it — the chain still verifies, before and after a
/// retention pruning.
@Suite("Audit crypto-shredding")
struct AuditShreddingTests {
    static let address = "203.0.113.77"
    static let browser = "AliceBrowser/9.1"

    /// Every person-bearing column of every stored event, as one text.
    static func rawEvents(_ runtime: LatchkeyRuntime) async throws -> String {
        try await runtime.database.read { db in
            try await db.raw("SELECT actor, target, ip, user_agent, details FROM audit_events ORDER BY tenant_id, seq").all().map { row in
                try ["actor", "target", "ip", "user_agent", "details"].map { try row.decode(column: $0, as: String?.self) ?? "" }.joined(
                    separator: " "
                )
            }.joined(separator: "\n")
        }
    }

    /// Alice (a console user) signs in (her address, her browser), an admin key takes a token of hers.
    static func aliceActs(_ client: any TestClientProtocol, _ fixture: TestFixture) async throws -> User {
        let runtime = fixture.runtime
        let alice = try await runtime.tenants.createUser(
            tenantID: fixture.tenantID,
            email: "alice@example.com",
            displayName: "Alice",
            passwordHash: PersonErasureTests.passwordHash,
            isAdmin: false,
            actor: .cli
        )
        try await runtime.audit.append(
            AuditRecord(
                actor: AuditActor(id: "user:\(alice.id)", ip: address, userAgent: browser),
                action: "user.sign_in",
                target: alice.id,
                details: ["method": "password"]
            ),
            tenantID: fixture.tenantID
        )
        let imported = try await client.execute(
            uri: "/api/v1/credentials",
            method: .post,
            headers: fixture.headers,
            body: try body(["integration": "github", "type": "oauth2", "accessToken": "alice-token", "externalUserId": alice.id])
        )
        #expect(imported.status == .created, "\(imported.text)")
        let token = try await client.execute(
            uri: "/api/v1/credentials/token",
            method: .post,
            headers: fixture.headers,
            body: try body(["integration": "github", "externalUserId": alice.id])
        )
        #expect(token.status == .ok, "\(token.text)")
        return alice
    }

    static func events(_ client: any TestClientProtocol, _ fixture: TestFixture) async throws -> [[String: Any]] {
        let list = try await client.execute(uri: "/api/v1/audit?limit=200", method: .get, headers: fixture.headers)
        return try #require(try list.json["items"] as? [[String: Any]])
    }

    static func one(_ events: [[String: Any]], _ action: String) throws -> [String: Any] {
        try #require(events.first { $0["action"] as? String == action }, "no \(action) event")
    }

    @Test(arguments: TestDatabases.kinds)
    func aPersonsIdentifiersAreSealedAtRestReadInClearAndErasedWithThem(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let runtime = fixture.runtime
            let alice = try await Self.aliceActs(client, fixture)

            // At rest: no id, email, address or user agent of hers in any event.
            let raw = try await Self.rawEvents(runtime)
            for clear in [alice.id, "alice@example.com", Self.address, Self.browser] { #expect(!raw.contains(clear), "\(clear) is stored in clear") }
            #expect(raw.contains("sealed:v1:"))

            // Read in clear while her key exists.
            let before = try await Self.events(client, fixture)
            let signIn = try Self.one(before, "user.sign_in")
            #expect(signIn["actor"] as? String == "user:\(alice.id)" && signIn["target"] as? String == alice.id)
            #expect(signIn["ip"] as? String == Self.address && signIn["userAgent"] as? String == Self.browser)
            #expect((try Self.one(before, "user.create")["details"] as? [String: String])?["email"] == "alice@example.com")
            let token = try Self.one(before, "credential.token")
            #expect((token["details"] as? [String: String])?["end_user"] == alice.id)
            #expect((token["actor"] as? String)?.hasPrefix("admin_key:") == true, "an admin key's own identity is not sealed")
            var export = ""
            try await AuditExport.write(audit: runtime.audit, tenantID: fixture.tenantID, format: .jsonl) { export += $0 }
            #expect(export.contains("alice@example.com") && export.contains(Self.address))

            // Erased: the same events read "erased", the chain still verifies.
            let erased = try await client.execute(uri: "/api/v1/users/\(alice.id)", method: .delete, headers: fixture.headers)
            #expect(erased.status == .noContent, "\(erased.text)")
            let after = try await Self.events(client, fixture)
            let shredded = try Self.one(after, "user.sign_in")
            #expect(shredded["actor"] as? String == AuditSeal.erased && shredded["target"] as? String == AuditSeal.erased)
            #expect(shredded["ip"] as? String == AuditSeal.erased && shredded["userAgent"] as? String == AuditSeal.erased)
            #expect((try Self.one(after, "user.create")["details"] as? [String: String])?["email"] == AuditSeal.erased)
            #expect((try Self.one(after, "credential.token")["details"] as? [String: String])?["end_user"] == AuditSeal.erased)
            let verification = try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: fixture.headers)
            #expect(try verification.json["intact"] as? Bool == true, "\(verification.text)")
            export = ""
            try await AuditExport.write(audit: runtime.audit, tenantID: fixture.tenantID, format: .csv) { export += $0 }
            for clear in [alice.id, "alice@example.com", Self.address, Self.browser] { #expect(!export.contains(clear)) }
            #expect(export.contains(AuditSeal.erased))
            let keys = try await runtime.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM audit_person_keys WHERE person_id = \(bind: alice.id)").first()?.decode(
                    column: "n",
                    as: Int.self
                )
            }
            #expect(keys == 0)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anEndUsersErasureShredsTheirTokenEvents(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let runtime = fixture.runtime
            _ = try await runtime.integrations.create(
                .init(key: "github", provider: "github", clientID: "gh-client", clientSecret: "gh-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let (appID, appKey) = try await AppsAPITests.createApp(client, fixture, ["name": "Shredded"])
            let app = try await AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger).app(
                id: appID,
                tenantID: fixture.tenantID
            )
            let plan = CredentialVault.SeedPlan(app: app, integrationKey: "github", count: 2, externalIDPrefix: "sarah-") { n in
                CredentialSecret(accessToken: "sarah-token-\(n)", tokenType: "bearer")
            }
            try await runtime.vault.seedEndUsers(plan, actor: .cli)
            for user in ["sarah-0", "sarah-1"] {
                let token = try await client.execute(
                    uri: "/api/v1/credentials/token",
                    method: .post,
                    headers: AppsAPITests.appHeaders(appKey),
                    body: try body(["integration": "github", "externalUserId": user])
                )
                #expect(token.status == .ok)
            }
            #expect(!(try await Self.rawEvents(runtime)).contains("sarah-0"))

            let deleted = try await client.execute(uri: "/api/v1/end-users/sarah-0", method: .delete, headers: AppsAPITests.appHeaders(appKey))
            #expect(deleted.status == .noContent, "\(deleted.text)")
            let owners = try await Self.events(client, fixture).filter { $0["action"] as? String == "credential.token" }
                .compactMap { ($0["details"] as? [String: String])?["end_user"] }
            #expect(owners.sorted() == [AuditSeal.erased, "sarah-1"])
            #expect(try await runtime.audit.verify(tenantID: fixture.tenantID).isIntact)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func pruningAfterAnErasureStillVerifiesFromItsCheckpoint(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let runtime = fixture.runtime
            let alice = try await Self.aliceActs(client, fixture)
            clock.advance(by: 401 * 86_400)
            try await runtime.audit.append(
                AuditRecord(actor: AuditActor(id: "user:\(alice.id)", ip: Self.address), action: "test.recent", target: nil),
                tenantID: fixture.tenantID
            )
            let erased = try await client.execute(uri: "/api/v1/users/\(alice.id)", method: .delete, headers: fixture.headers)
            #expect(erased.status == .noContent)
            let service = AuditRetentionService(
                retention: AuditRetention(database: runtime.database, keyring: runtime.keyring, clock: clock),
                retentionDays: 400,
                clock: clock,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            #expect(try await service.runOnce() > 0)
            let verification = try await runtime.audit.verify(tenantID: fixture.tenantID)
            #expect(verification.isIntact && verification.checkpoint != nil)
            let recent = try Self.one(try await Self.events(client, fixture), "test.recent")
            #expect(recent["actor"] as? String == AuditSeal.erased && recent["ip"] as? String == AuditSeal.erased)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anotherInstanceStopsOpeningOnceItsCachedKeyIsOld(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let runtime = fixture.runtime
            let alice = try await Self.aliceActs(client, fixture)
            // Another instance on the same database, which read (and cached) her key before the erasure.
            let other = AuditRepository(
                database: runtime.database,
                personKeys: AuditPersonKeys(database: runtime.database, keyring: runtime.keyring, clock: clock, lifetime: 30)
            )
            func signIn() async throws -> AuditEvent {
                let events = try await other.page(tenantID: fixture.tenantID, afterSeq: 0, limit: 200)
                guard let signIn = events.first(where: { $0.action == "user.sign_in" }) else { throw NoSignIn() }
                return signIn
            }
            #expect(try await signIn().actor == "user:\(alice.id)")
            let erased = try await client.execute(uri: "/api/v1/users/\(alice.id)", method: .delete, headers: fixture.headers)
            #expect(erased.status == .noContent)
            #expect(try await signIn().actor == "user:\(alice.id)", "within its lifetime the cached key still opens")
            clock.advance(by: 31)
            #expect(try await signIn().actor == AuditSeal.erased)
            #expect(try await signIn().ip == AuditSeal.erased)
        }
    }
}

/// The other instance's page has no sign-in event.
private struct NoSignIn: Error {}
