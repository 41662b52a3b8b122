import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Testing

/// Refresh when things go wrong across instances: the shared circuit, a trial that ends in a revoked grant, a lease
/// lost before a retry, a failure written by someone who no longer holds the lease.
@Suite("Refresh recovery")
struct RefreshRecoveryTests {
    static func noRetries() -> RefreshCoordinator.Configuration {
        var configuration = RefreshCoordinator.Configuration()
        configuration.retries = 0
        return configuration
    }

    static func down() -> FakeProvider.Override { .status(502, body: "down", contentType: "text/plain") }

    static func isPaused(_ error: any Error) -> Bool { (error as? LatchkeyError)?.code == .providerUnavailable }

    @Test(arguments: TestDatabases.kinds)
    func oneUsersRevokedGrantNeverPausesRefreshForEveryone(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let alice = try await world.connect(user: "alice", account: "1001", expiresAt: world.clock.now.addingTimeInterval(-10))
            let bob = try await world.connect(user: "bob", account: "1002", expiresAt: world.clock.now.addingTimeInterval(-10))
            let coordinator = world.coordinator(configuration: Self.noRetries())
            for _ in 0..<5 {
                await world.fake.nextTokenResponse(Self.down())
                await #expect(throws: LatchkeyError.self) { try await coordinator.freshToken(id: alice.id, tenantID: world.tenantID) }
            }
            await #expect { try await coordinator.freshToken(id: bob.id, tenantID: world.tenantID) } throws: { Self.isPaused($0) }
            // After the pause, the trial call is Alice's, and her grant was revoked meanwhile.
            world.clock.advance(by: 31)
            await world.fake.nextTokenResponse(.error("invalid_grant"))
            await #expect { try await coordinator.freshToken(id: alice.id, tenantID: world.tenantID) } throws: { error in
                (error as? LatchkeyError)?.code == .needsReauth
            }
            // The provider answered, so it is up: Bob's refresh goes through at once, on this instance and any other.
            let (fresh, _) = try await coordinator.freshToken(id: bob.id, tenantID: world.tenantID)
            #expect(fresh.lastRefreshedAt == world.clock.now)
            let other = world.coordinator(owner: "instance-b", configuration: Self.noRetries())
            #expect(try await other.circuit.isOpen(try #require(await world.integration())) == false)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func instancesShareOneCircuitAndOneTrial(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            let instances = ["a", "b", "c"].map { world.coordinator(owner: "instance-\($0)", configuration: Self.noRetries()) }
            // Five failures spread over two instances pause the provider for all three.
            for index in 0..<5 {
                await world.fake.nextTokenResponse(Self.down())
                await #expect(throws: LatchkeyError.self) {
                    try await instances[index % 2].freshToken(id: credential.id, tenantID: world.tenantID)
                }
            }
            await world.fake.clearRequests()
            await #expect { try await instances[2].freshToken(id: credential.id, tenantID: world.tenantID) } throws: { Self.isPaused($0) }
            #expect(await world.fake.requests.isEmpty)
            // Health, metrics' view and the admin pages read the same circuit.
            let integration = try #require(await world.integration())
            let connection = try #require(try await world.runtime.tenants.directory.connections(tenantID: world.tenantID).first)
            let monitor = HealthMonitor(
                vault: world.runtime.vault,
                resolver: ProviderResolver(catalog: RefreshWorld.catalog, integrations: world.runtime.integrations),
                coordinator: instances[2],
                oauth: world.oauth,
                clock: world.clock
            )
            #expect(try await monitor.health(of: connection).reasons.contains("circuit_open"))
            // After the pause exactly one instance gets the trial call; the others keep waiting until it ends.
            world.clock.advance(by: 31)
            let won = try await instances[0].circuit.claimTrial(
                integration,
                owner: "instance-a",
                seen: try await instances[0].circuit.state(of: integration)
            )
            #expect(won.won)
            let lost = try await instances[1].circuit.claimTrial(
                integration,
                owner: "instance-b",
                seen: try await instances[1].circuit.state(of: integration)
            )
            #expect(!lost.won)
            await #expect { try await instances[2].freshToken(id: credential.id, tenantID: world.tenantID) } throws: { Self.isPaused($0) }
            try await instances[0].circuit.record(.answered, for: integration)
            // The others see the end of the pause within a second (what they read is reused that long).
            world.clock.advance(by: 1)
            _ = try await instances[2].freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(try await monitor.health(of: connection).reasons.contains("circuit_open") == false)
        }
    }

    @Test func aLeaseLostBeforeARetryIsNeverFollowedByAnotherProviderCall() async throws {
        try await RefreshWorld.with { world in
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            var configuration = RefreshCoordinator.Configuration()
            configuration.leaseLength = 5
            let vault = world.runtime.vault
            // While the first call is out, the lease runs out and another instance refreshes the credential; the
            // provider then answers 503.
            let transport = HookedTransport(inner: world.fake) {
                world.clock.advance(by: 6)
                guard
                    try await vault.acquireLease(
                        id: credential.id,
                        tenantID: world.tenantID,
                        owner: "winner",
                        until: world.clock.now.addingTimeInterval(5)
                    )
                else { return }
                _ = try await vault.completeRefresh(
                    id: credential.id,
                    tenantID: world.tenantID,
                    owner: "winner",
                    tokens: .init(
                        accessToken: "winner-access",
                        refreshToken: "winner-refresh",
                        tokenType: nil,
                        idToken: nil,
                        expiresAt: world.clock.now.addingTimeInterval(3600),
                        scopes: nil
                    ),
                    policy: .standard,
                    actor: .system
                )
            }
            await world.fake.nextTokenResponse(.status(503, body: "busy", contentType: "text/plain"))
            await world.fake.clearRequests()
            let coordinator = RefreshCoordinator(
                vault: vault,
                resolver: ProviderResolver(catalog: RefreshWorld.catalog, integrations: world.runtime.integrations),
                oauth: OAuthClient(transport: transport, clock: world.clock),
                clock: world.clock,
                owner: "loser",
                configuration: configuration,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let driver = ClockDriver(world.clock)
            defer { driver.stop() }
            let (_, secret) = try await coordinator.freshToken(id: credential.id, tenantID: world.tenantID)
            #expect(secret.accessToken == "winner-access")
            #expect(await world.fake.requests.count == 1)  // the 503; no second call with a refresh token already rotated
            #expect(try await world.secret(credential.id).refreshToken == "winner-refresh")
            // The loser's failure was not written over the winner's result.
            let stored = try await world.credential(credential.id)
            #expect(stored.refreshFailures == 0)
            #expect(stored.status == .active)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aFailureWrittenWithoutTheLeaseChangesNothingAndSendsNothing(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            _ = try await world.runtime.webhooks.setEndpoint(
                url: "https://hooks.example/latchkey",
                rotateSecret: false,
                tenantID: world.tenantID,
                actor: .cli
            )
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            let vault = world.runtime.vault
            #expect(
                try await vault.acquireLease(
                    id: credential.id,
                    tenantID: world.tenantID,
                    owner: "current",
                    until: world.clock.now.addingTimeInterval(15)
                )
            )
            let auditBefore = try await world.runtime.audit.repository.page(tenantID: world.tenantID, afterSeq: nil, limit: 500).count
            let written = try await vault.failRefresh(
                id: credential.id,
                tenantID: world.tenantID,
                owner: "former",
                status: .needsReauth,
                reason: "invalid_grant",
                retryAt: nil,
                actor: .system
            )
            #expect(written == nil)
            #expect(try await world.credential(credential.id).status == .active)
            #expect(try await world.runtime.audit.repository.page(tenantID: world.tenantID, afterSeq: nil, limit: 500).count == auditBefore)
            let types = try await world.runtime.webhooks.repository.deliveries(tenantID: world.tenantID, status: nil, limit: 50, cursor: nil).items
                .map(\.type)
            #expect(!types.contains("credential.needs_reauth"))
            // The holder of the lease does write, audit and send.
            #expect(
                try await vault.failRefresh(
                    id: credential.id,
                    tenantID: world.tenantID,
                    owner: "current",
                    status: .needsReauth,
                    reason: "invalid_grant",
                    retryAt: nil,
                    actor: .system
                )?.status == .needsReauth
            )
            let after = try await world.runtime.webhooks.repository.deliveries(tenantID: world.tenantID, status: nil, limit: 50, cursor: nil).items
            #expect(after.contains { $0.type == "credential.needs_reauth" })
        }
    }

    @Test func aRefusedClientTellsTheAdministratorsByWebhook() async throws {
        try await RefreshWorld.with { world in
            _ = try await world.runtime.webhooks.setEndpoint(
                url: "https://hooks.example/latchkey",
                rotateSecret: false,
                tenantID: world.tenantID,
                actor: .cli
            )
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            await world.fake.nextTokenResponse(.error("invalid_client"))
            await #expect(throws: LatchkeyError.self) { try await world.coordinator().freshToken(id: credential.id, tenantID: world.tenantID) }
            let deliveries = try await world.runtime.webhooks.repository.deliveries(tenantID: world.tenantID, status: nil, limit: 50, cursor: nil)
                .items
            let event = try #require(deliveries.first { $0.type == "integration.misconfigured" })
            #expect(event.payload.contains("\"integration\":\"gitlab\""))
            #expect(event.payload.contains("invalid_client"))
            #expect(!event.payload.contains("fake-client-secret"))
            // Once: a second refusal while it is still marked sends nothing new.
            await world.fake.nextTokenResponse(.error("invalid_client"))
            world.clock.advance(by: 7200)
            await #expect(throws: LatchkeyError.self) { try await world.coordinator().freshToken(id: credential.id, tenantID: world.tenantID) }
            let again = try await world.runtime.webhooks.repository.deliveries(tenantID: world.tenantID, status: nil, limit: 50, cursor: nil).items
            #expect(again.filter { $0.type == "integration.misconfigured" }.count == 1)
        }
    }
}

extension RefreshRecoveryTests {
    @Test(arguments: TestDatabases.kinds)
    func expiryLeavesARowThatChangedSinceItWasSelected(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            let vault = world.runtime.vault
            let credential = try await vault.create(
                .init(
                    integration: "gitlab",
                    externalUserID: "alice",
                    type: .oauth2,
                    secret: .init(accessToken: "only-an-access-token"),
                    expiresAt: world.clock.now.addingTimeInterval(-60),
                    scopes: []
                ),
                tenantID: world.tenantID,
                actor: .cli
            )
            let candidate = try #require(try await vault.expiryCandidates().first { $0.id == credential.id })
            // Meanwhile the person reconnected (any write moves the row version on).
            _ = try await vault.update(id: credential.id, tenantID: world.tenantID, changes: .init(label: .some("work")), actor: .cli)
            #expect(try await vault.expire(candidate) == false)
            #expect(try await world.credential(credential.id).status == .active)
            let audit = try await world.runtime.audit.repository.page(tenantID: world.tenantID, afterSeq: nil, limit: 500)
            #expect(!audit.contains { $0.action == "credential.expire" })
            // Selected again, it expires, once, audited.
            #expect(try await vault.markExpired() == 1)
            #expect(try await world.credential(credential.id).status == .expired)
            #expect(try await vault.markExpired() == 0)
        }
    }
}

/// A transport that runs `beforeFirstToken` once, just before the first token request reaches the provider.
final class HookedTransport: HTTPTransport, Sendable {
    let inner: FakeProvider
    let hook: @Sendable () async throws -> Void
    let ran = Flag()

    init(inner: FakeProvider, beforeFirstToken hook: @escaping @Sendable () async throws -> Void) {
        self.inner = inner
        self.hook = hook
    }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        if request.url.path == inner.endpoints.tokenURL.path, await ran.setOnce() { try await hook() }
        return try await inner.send(request)
    }

    actor Flag {
        private var set = false
        func setOnce() -> Bool {
            defer { set = true }
            return !set
        }
    }
}

extension RefreshWorld {
    /// The integration the world's provider runs under.
    func integration() async throws -> Integration? {
        try await runtime.integrations.integrations.find(key: provider.id, tenantID: tenantID)
    }
}
