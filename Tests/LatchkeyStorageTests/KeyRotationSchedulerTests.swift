import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

/// Scheduled data-key rotation: due after the period on the injected clock, done by one instance of several, recorded
/// in the audit log, and re-wrap then moves the stored values; the overdue flag only when a rotation did not happen.
@Suite("Scheduled data-key rotation")
struct KeyRotationSchedulerTests {
    static let day: TimeInterval = 86_400

    static func scheduler(_ runtime: LatchkeyRuntime, days: Int, keyManager: KeyManager? = nil, keyring: Keyring? = nil) -> KeyRotationScheduler {
        KeyRotationScheduler(
            keyManager: keyManager ?? runtime.keyManager,
            keyring: keyring ?? runtime.keyring,
            audit: runtime.audit,
            auditTenantID: runtime.defaultTenant.id,
            configuration: .init(rotationDays: days),
            clock: runtime.clock,
            logger: runtime.logger
        )
    }

    static func scheduledRotations(_ runtime: LatchkeyRuntime) async throws -> [String] {
        try await runtime.database.read { db in
            try await db.raw("SELECT target FROM audit_events WHERE action = 'key.rotate' AND actor = 'system' ORDER BY seq").all().map {
                try $0.decode(column: "target", as: String.self)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theDataKeyIsRotatedOnceItIsDueAndReWrapMovesTheRows(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let credential = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "octocat", type: .oauth2, secret: .init(accessToken: "tok_rotate")),
                tenantID: runtime.defaultTenant.id,
                actor: .cli
            )
            let scheduler = Self.scheduler(runtime, days: 90)
            #expect(try await scheduler.check() == nil)
            clock.advance(by: 89 * Self.day)
            #expect(try await scheduler.check() == nil)
            #expect(runtime.keyring.activeVersion == 1)

            clock.advance(by: Self.day)
            #expect(try await scheduler.check() == 2)
            #expect(runtime.keyring.activeVersion == 2)
            #expect(try await Self.scheduledRotations(runtime) == ["data-key-v2"])
            #expect(try await runtime.keyManager.activeDataKeyCreatedAt() == clock.now)
            // Not due again until another 90 days have passed.
            clock.advance(by: 30 * Self.day)
            #expect(try await scheduler.check() == nil)

            // The existing re-wrap then moves the credential to the new key.
            while try await runtime.rewrapService().runBatch() > 0 {}
            #expect(try await runtime.keyManager.status().rowsByVersion[2] == 1)
            let opened = try await runtime.vault.reveal(id: credential.id, tenantID: runtime.defaultTenant.id, actor: .cli)
            #expect(opened.1.accessToken == "tok_rotate")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func ofSeveralInstancesOnlyOneRotates(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            // Four instances, each with its own key manager and keyring over the same database.
            var schedulers: [KeyRotationScheduler] = []
            for _ in 0..<4 {
                let manager = KeyManager(
                    database: runtime.database,
                    provider: runtime.configuration.keyProvider,
                    clock: clock,
                    logger: runtime.logger
                )
                let keyring = try await manager.open().keyring
                schedulers.append(Self.scheduler(runtime, days: 7, keyManager: manager, keyring: keyring))
            }
            clock.advance(by: 8 * Self.day)
            let results = try await withThrowingTaskGroup(of: Int?.self) { group in
                for scheduler in schedulers { group.addTask { try await scheduler.check() } }
                var results: [Int?] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(results.compactMap { $0 } == [2])
            #expect(try await runtime.keyManager.status().versions == [1, 2])
            #expect(try await Self.scheduledRotations(runtime) == ["data-key-v2"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func overdueOnlyWhenARotationDidNotHappenAndNeverWhenOff(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let on = KeyRotationScheduler.Configuration(rotationDays: 90)
            clock.advance(by: 90 * Self.day + 3600)
            // Due but within the day's grace: the scheduler has not had its hour yet.
            var age = try await KeyRotationScheduler.keyAge(keyManager: runtime.keyManager, configuration: on, now: clock.now)
            #expect(!age.overdue && age.ageSeconds == 90 * Self.day + 3600)
            clock.advance(by: 2 * Self.day)
            age = try await KeyRotationScheduler.keyAge(keyManager: runtime.keyManager, configuration: on, now: clock.now)
            #expect(age.overdue)
            let off = KeyRotationScheduler.Configuration(rotationDays: 0)
            #expect(try await !KeyRotationScheduler.keyAge(keyManager: runtime.keyManager, configuration: off, now: clock.now).overdue)
            #expect(try await Self.scheduler(runtime, days: 0).check() == nil)
            #expect(runtime.keyring.activeVersion == 1)

            // The scheduler's run catches up.
            #expect(try await Self.scheduler(runtime, days: 90).check() == 2)
            #expect(try await !KeyRotationScheduler.keyAge(keyManager: runtime.keyManager, configuration: on, now: clock.now).overdue)
        }
    }

    @Test func rotationDaysAreChecked() throws {
        #expect(try ServerConfiguration.keyRotationDays("0", setting: "x") == 0)
        #expect(try ServerConfiguration.keyRotationDays("30", setting: "x") == 30)
        for bad in ["-1", "3651", "ninety", ""] {
            #expect(throws: ConfigurationError.self) { try ServerConfiguration.keyRotationDays(bad, setting: "LATCHKEY_KEY_ROTATION_DAYS") }
        }
        var configuration = ServerConfiguration()
        #expect(configuration.keyRotation.rotationDays == 90)
        try configuration.applyEnvironment(["LATCHKEY_KEY_ROTATION_DAYS": "0"])
        #expect(configuration.keyRotation.period == nil)
    }
}
