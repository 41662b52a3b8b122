import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyStorage
import LatchkeyTesting
import Testing

@Suite("Lifecycle webhook events and health")
struct LifecycleEventsTests {
    @Test(arguments: TestDatabases.kinds)
    func connectNeedsReauthAndDeleteAreQueuedWithHealthChanges(kind: TestDatabases.Kind) async throws {
        try await RefreshWorld.with(kind) { world in
            _ = try await world.runtime.webhooks.setEndpoint(
                url: "https://hooks.example/latchkey",
                rotateSecret: false,
                tenantID: world.tenantID,
                actor: .cli
            )
            let credential = try await world.connect(expiresAt: world.clock.now.addingTimeInterval(-10))
            await world.fake.revokeAllGrants()
            await #expect(throws: LatchkeyError.self) { try await world.coordinator().freshToken(id: credential.id, tenantID: world.tenantID) }
            try await world.runtime.vault.delete(id: credential.id, tenantID: world.tenantID, actor: .cli, providerRevocation: .revoked)
            let deliveries = try await world.runtime.webhooks.repository.deliveries(tenantID: world.tenantID, status: nil, limit: 50, cursor: nil)
                .items
            // Several events share one instant of the test clock, so compare them as a set of counts.
            let types = deliveries.map(\.type).sorted()
            #expect(
                types == [
                    "connection.health_changed", "connection.health_changed", "credential.created", "credential.deleted",
                    "credential.needs_reauth", "credential.revoked",
                ]
            )
            let needsReauth = try #require(deliveries.first { $0.type == "credential.needs_reauth" })
            #expect(needsReauth.payload.contains(credential.id))
            let event = try #require(try JSONSerialization.jsonObject(with: Data(needsReauth.payload.utf8)) as? [String: Any])
            #expect((event["data"] as? [String: Any])?["reason"] as? String == "invalid_grant")
            let health = deliveries.filter { $0.type == "connection.health_changed" }.map(\.payload)
            #expect(health.contains { $0.contains("\"unhealthy\"") })
            #expect(health.contains { $0.contains("\"healthy\"") })
            // Nothing secret travels.
            for delivery in deliveries {
                #expect(!delivery.payload.contains("fake-client-secret"))
                #expect(!delivery.payload.lowercased().contains("access_token"))
            }
        }
    }

    @Test func healthFollowsTheRulesOfTheDesign() {
        #expect(ConnectionHealth.evaluate(.init(active: 10)).state == .healthy)
        #expect(ConnectionHealth.evaluate(.init(active: 10, needsReauth: 1)).state == .healthy)  // 9%: within 10 %
        let degraded = ConnectionHealth.evaluate(.init(active: 8, expired: 2))
        #expect(degraded.state == .degraded)
        #expect(degraded.reasons == ["some_credentials_unusable"])
        #expect(ConnectionHealth.evaluate(.init(active: 5, needsReauth: 5)).state == .unhealthy)
        #expect(ConnectionHealth.evaluate(.init(active: 10, sharedUsable: false)).reasons == ["shared_credential_unusable"])
        #expect(ConnectionHealth.evaluate(.init(active: 10), circuitOpen: true).state == .unhealthy)
        #expect(ConnectionHealth.evaluate(.init(active: 10), probeFailureRate: 0.2).state == .degraded)
        #expect(ConnectionHealth.evaluate(.init(active: 10), probeFailureRate: 1).state == .unhealthy)
    }
}
