import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import Testing

@Suite("Refresh coordinator")
struct RefreshCoordinatorTests {
    @Test(arguments: TestDatabases.kinds)
    func anExpiredTokenIsRefreshedAndTheRotatedRefreshTokenStored(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            let before = try await world.secret(credential.id)
            let coordinator = world.coordinator()
            let (fresh, secret) = try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(await world.fake.refreshCount == 1)
            #expect(secret.accessToken != before.accessToken)
            #expect(secret.refreshToken != before.refreshToken)  // GitLab rotates
            #expect((fresh.expiresAt ?? .distantPast) > world.clock.now)
            #expect(fresh.lastRefreshedAt == world.clock.now)
            #expect(try await world.secret(credential.id) == secret)
            // The stored (rotated) refresh token works for the next refresh.
            world.clock.advance(by: 7200)
            let (_, again) = try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(again.accessToken != secret.accessToken)
            #expect(await world.fake.refreshCount == 2)
            // A token that is still good is handed out as it is.
            _ = try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(await world.fake.refreshCount == 2)
            let events = try await world.runtime.audit.repository.page(tenantID: world.tenantID, afterSeq: nil, limit: 100)
            #expect(events.filter { $0.action == "credential.refresh" && $0.result == "success" }.count == 2)
        }
    }

    @Test func anAnswerWithoutRefreshTokenKeepsTheOldOne() async throws {
        try await RefreshWorld.with(provider: "slack") { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            let before = try await world.secret(credential.id)
            let (_, secret) = try await world.coordinator().freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(secret.refreshToken == before.refreshToken)
            #expect(secret.accessToken != before.accessToken)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentCallersInOneProcessShareOneRefresh(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            let coordinator = world.coordinator()
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID).1.accessToken ?? "" }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1)
            #expect(await world.fake.refreshCount == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func instancesCoordinateThroughTheLease(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            let instances = (0..<3).map { world.coordinator(owner: "instance-\($0)") }
            let driver = ClockDriver(world.clock)
            defer { driver.stop() }
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<30 {
                    let coordinator = instances[index % 3]
                    group.addTask { try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID).1.accessToken ?? "" }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1)
            #expect(await world.fake.refreshCount == 1)
        }
    }

    @Test func aLeaseLeftByACrashedInstanceExpiresAndAnotherCompletes() async throws {
        try await RefreshWorld.with { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            // An instance took the lease and died before finishing.
            #expect(
                try await world.runtime.vault.acquireLease(
                    id: credential.id,
                    tenantID: world.tenantID,
                    owner: "dead",
                    until: world.clock.now.addingTimeInterval(15)
                )
            )
            let driver = ClockDriver(world.clock)
            defer { driver.stop() }
            let start = world.clock.now
            let (fresh, _) = try await world.coordinator(owner: "alive").freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(world.clock.now.timeIntervalSince(start) >= 15)
            #expect(fresh.status == .active)
            #expect(await world.fake.refreshCount == 1)
        }
    }

    @Test func aWriteBetweenLeaseAndResultDoesNotLoseTheRotatedToken() async throws {
        try await RefreshWorld.with { world in
            let vault = world.runtime.vault
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            #expect(
                try await vault.acquireLease(id: credential.id, tenantID: world.tenantID, owner: "me", until: world.clock.now.addingTimeInterval(15))
            )
            // Another writer (a re-wrap, a label change) moves the row version on meanwhile.
            _ = try await vault.update(id: credential.id, tenantID: world.tenantID, changes: .init(label: .some("work")), actor: .cli)
            let saved = try await vault.completeRefresh(
                id: credential.id,
                tenantID: world.tenantID,
                owner: "me",
                tokens: .init(
                    accessToken: "new-at",
                    refreshToken: "new-rt",
                    tokenType: nil,
                    idToken: nil,
                    expiresAt: world.clock.now.addingTimeInterval(3600),
                    scopes: nil
                ),
                policy: .standard,
                actor: .system
            )
            #expect(saved?.1.refreshToken == "new-rt")
            let stored = try await world.secret(credential.id)
            #expect(stored.refreshToken == "new-rt")
            #expect(try await world.credential(credential.id).label == "work")
            // Someone who no longer holds the lease cannot write.
            let late = try await vault.completeRefresh(
                id: credential.id,
                tenantID: world.tenantID,
                owner: "me",
                tokens: .init(accessToken: "x", refreshToken: "y", tokenType: nil, idToken: nil, expiresAt: nil, scopes: nil),
                policy: .standard,
                actor: .system
            )
            #expect(late == nil)
            #expect(try await world.secret(credential.id).refreshToken == "new-rt")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aRevokedGrantMeansReconnectWithoutRetrying(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            await world.fake.revokeAllGrants()
            await world.fake.clearRequests()
            let coordinator = world.coordinator()
            await #expect {
                try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            } throws: { error in
                (error as? LatchkeyError)?.code == .needsReauth && (error as? LatchkeyError)?.action?.type == "reconnect"
            }
            #expect(await world.fake.requests.count == 1)  // no retry loop
            let stored = try await world.credential(credential.id)
            #expect(stored.status == .needsReauth)
            #expect(stored.statusReason != nil)
            #expect(stored.refreshDueAt == nil)
            // Later callers hear the same without calling the provider.
            await #expect(throws: LatchkeyError.self) { try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID) }
            #expect(await world.fake.requests.count == 1)
        }
    }

    @Test func transientFailuresAreRetriedWithBackoffKeepingTheOldToken() async throws {
        try await RefreshWorld.with { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            await world.fake.nextTokenResponse(.status(503, body: "busy", contentType: "text/plain"))
            await world.fake.nextTokenResponse(.status(500, body: "oops", contentType: "text/plain"))
            let driver = ClockDriver(world.clock, step: 0.05)
            defer { driver.stop() }
            let start = world.clock.now
            let (_, secret) = try await world.coordinator().freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(secret.accessToken != nil)
            #expect(await world.fake.refreshCount == 1)
            #expect(world.clock.now.timeIntervalSince(start) >= 0.25)  // two backoffs
            // Down for good: three retries, then a clear error, and the stored tokens are untouched.
            world.clock.advance(by: 7200)
            let before = try await world.secret(credential.id)
            for _ in 0..<4 { await world.fake.nextTokenResponse(.unreachable) }
            await #expect {
                try await world.coordinator(owner: "b").freshToken(id: credential.id, tenantID: world.tenantID)
            } throws: { error in
                (error as? LatchkeyError)?.code == .providerUnreachable
            }
            #expect(try await world.secret(credential.id) == before)
            #expect(try await world.credential(credential.id).status == .active)
        }
    }

    @Test func theCircuitOpensAfterFiveFailuresAndOneTrialClosesIt() async throws {
        try await RefreshWorld.with { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            var configuration = RefreshCoordinator.Configuration()
            configuration.retries = 0
            let coordinator = world.coordinator(configuration: configuration)
            for _ in 0..<5 {
                await world.fake.nextTokenResponse(.status(502, body: "down", contentType: "text/plain"))
                await #expect(throws: LatchkeyError.self) { try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID) }
            }
            await world.fake.clearRequests()
            await #expect {
                try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            } throws: { error in
                (error as? LatchkeyError)?.code == .providerUnavailable && ((error as? LatchkeyError)?.retryAfter ?? 0) > 0
            }
            #expect(await world.fake.requests.isEmpty)  // the provider is left alone
            world.clock.advance(by: 31)
            let (_, secret) = try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(secret.accessToken != nil)
        }
    }

    @Test func aRefusedClientMarksTheIntegrationAndLeavesCredentialsAlone() async throws {
        try await RefreshWorld.with { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            await world.fake.nextTokenResponse(.error("invalid_client"))
            await #expect(throws: LatchkeyError.self) { try await world.coordinator().freshToken(id: credential.id, tenantID: world.tenantID) }
            let integration = try await world.runtime.integrations.integrations.find(key: "gitlab", tenantID: world.tenantID)
            #expect(integration?.status == .misconfigured)
            #expect(try await world.credential(credential.id).status == .active)
            // Fixing the client clears the mark.
            _ = try await world.runtime.integrations.update(
                key: "gitlab",
                tenantID: world.tenantID,
                changes: .init(clientSecret: .some("new")),
                actor: .cli
            )
            #expect(try await world.runtime.integrations.integrations.find(key: "gitlab", tenantID: world.tenantID)?.status == .ok)
        }
    }
}
