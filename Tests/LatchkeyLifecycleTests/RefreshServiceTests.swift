import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyStorage
import LatchkeyTesting
import Logging
import ServiceLifecycle
import Testing

@Suite("Background refresh")
struct RefreshServiceTests {
    static func service(_ world: RefreshWorld, owner: String = "instance-a") -> RefreshService {
        RefreshService(
            coordinator: world.coordinator(owner: owner),
            vault: world.runtime.vault,
            clock: world.clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    @Test func tenThousandTokensExpiringTogetherAreSpreadOut() {
        // Due times for 10,000 tokens that all expire in the same minute: no second carries more than 5%.
        let expiry = Date(timeIntervalSince1970: 2_000_000_000)
        var perSecond: [Int: Int] = [:]
        for index in 0..<10_000 {
            let expiresAt = expiry.addingTimeInterval(Double(index % 60))
            let due = RefreshPolicy.standard.dueDate(
                expiresAt: expiresAt,
                hasRefreshToken: true,
                lastRefreshed: expiry,
                spread: Double.random(in: 0...1)
            )!
            #expect(due < expiresAt)
            perSecond[Int(due.timeIntervalSince1970), default: 0] += 1
        }
        let busiest = perSecond.values.max() ?? 0
        #expect(Double(busiest) / 10_000 <= 0.05, "busiest second had \(busiest)")
        // Tokens without a refresh token are not scheduled; idle refresh comes before the idle limit.
        #expect(RefreshPolicy.standard.dueDate(expiresAt: expiry, hasRefreshToken: false, lastRefreshed: expiry, spread: 0) == nil)
        let idle = RefreshPolicy(buffer: 300, idleExpiry: 90 * 86400).dueDate(
            expiresAt: nil,
            hasRefreshToken: true,
            lastRefreshed: expiry,
            spread: 1
        )!
        #expect(idle < expiry.addingTimeInterval(90 * 86400))
    }

    @Test(arguments: TestDatabases.kinds)
    func dueCredentialsAreRefreshedBeforeTheyExpireAndOthersAreLeftAlone(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let soon = try await world.connect(account: "1", expiresAt: world.clock.now.addingTimeInterval(400))
            let later = try await world.connect(user: "bob", account: "2", expiresAt: world.clock.now.addingTimeInterval(3600))
            let service = Self.service(world)
            let early = try await service.runOnce()
            #expect(early == 0)  // 400 s before expiry is before any due time (spread from 300 to 150 s ahead)
            // 140 s before expiry every due time has passed: it is refreshed.
            world.clock.advance(by: 260)
            _ = try await service.runOnce()
            let refreshed = try await world.credential(soon.id)
            #expect(refreshed.lastRefreshedAt != nil)
            #expect((refreshed.expiresAt ?? .distantPast) > world.clock.now.addingTimeInterval(3000))
            #expect(try await world.credential(later.id).lastRefreshedAt == nil)
            #expect(await world.fake.refreshCount == 1)
            // Nothing due: nothing happens.
            #expect(try await service.runOnce() == 0)
            #expect(await world.fake.refreshCount == 1)
        }
    }

    @Test func twoInstancesNeverRefreshTheSameCredentialTwice() async throws {
        try await RefreshWorld.with(TestDatabases.kinds.contains(.postgres) ? .postgres : .sqlite) { world in
            for index in 0..<40 {
                _ = try await world.connect(user: "user-\(index)", account: "\(index)", expiresAt: world.clock.now.addingTimeInterval(100))
            }
            world.clock.advance(by: 60)
            let a = Self.service(world, owner: "a")
            let b = Self.service(world, owner: "b")
            async let first = a.runOnce()
            async let second = b.runOnce()
            let total = try await first + second
            #expect(total == 40)
            #expect(await world.fake.refreshCount == 40)
        }
    }

    @Test func aFailedBackgroundRefreshIsRetriedLaterAndARevokedGrantStops() async throws {
        try await RefreshWorld.with { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(100))
            world.clock.advance(by: 60)
            await world.fake.nextTokenResponse(.status(503, body: "busy", contentType: "text/plain"))
            let service = Self.service(world)
            #expect(try await service.runOnce() == 0)
            let failed = try await world.credential(credential.id)
            #expect(failed.status == .active)
            #expect(failed.refreshFailures == 1)
            #expect((failed.refreshDueAt ?? .distantPast) > world.clock.now)  // rescheduled, not hammered
            world.clock.advance(by: 40)
            #expect(try await service.runOnce() == 1)
            // The person revokes access at the provider: needs_reauth, and no more attempts.
            await world.fake.revokeAllGrants()
            world.clock.advance(by: 3600)
            #expect(try await service.runOnce() == 0)
            #expect(try await world.credential(credential.id).status == .needsReauth)
            await world.fake.clearRequests()
            world.clock.advance(by: 3600)
            _ = try await service.runOnce()
            #expect(await world.fake.requests.isEmpty)
        }
    }

    @Test func tokensNothingCanRefreshExpireAndAreDeletedAfterThirtyDays() async throws {
        try await RefreshWorld.with(provider: "github") { world in
            // GitHub OAuth app tokens come without a refresh token.
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(60))
            let service = Self.service(world)
            world.clock.advance(by: 120)
            _ = try await service.runOnce()
            #expect(try await world.credential(credential.id).status == .expired)
            world.clock.advance(by: 29 * 86400)
            _ = try await service.runOnce()
            #expect(try await world.runtime.vault.load(id: credential.id, tenantID: world.tenantID) != nil)
            world.clock.advance(by: 2 * 86400)
            _ = try await service.runOnce()
            #expect(try await world.runtime.vault.load(id: credential.id, tenantID: world.tenantID) == nil)
            let events = try await world.runtime.audit.repository.page(tenantID: world.tenantID, afterSeq: nil, limit: 100)
            #expect(events.contains { $0.action == "credential.expire" && $0.target == credential.id })
            #expect(
                events.contains { $0.action == "credential.delete" && $0.target == credential.id && $0.details["provider_revocation"] == "expired" }
            )
        }
    }
}

@Suite("Background services stop cleanly")
struct BackgroundShutdownTests {
    @Test func refreshAndProbeServicesEndWithoutErrorOnGracefulShutdown() async throws {
        try await RefreshWorld.with { world in
            let refresher = RefreshServiceTests.service(world)
            let coordinator = world.coordinator()
            let monitor = HealthMonitor(
                vault: world.runtime.vault,
                resolver: ProviderResolver(catalog: RefreshWorld.catalog, integrations: world.runtime.integrations),
                coordinator: coordinator,
                oauth: world.oauth,
                clock: world.clock
            )
            let prober = ProbeService(monitor: monitor, directory: world.runtime.tenants.directory, clock: world.clock, logger: Logger(label: "test"))
            {
                [world.tenantID]
            }
            let group = ServiceGroup(services: [refresher, prober], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            let running = Task { try await group.run() }
            // Both are asleep on the injected clock; a shutdown (SIGTERM) must end them without an error, or the
            // process exits with a failure status.
            while world.clock.sleeperCount < 2 { await Task.yield() }
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }
}
