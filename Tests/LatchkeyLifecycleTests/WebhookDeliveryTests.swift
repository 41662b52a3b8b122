import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Testing

@Suite("Webhook signatures")
struct WebhookSignatureTests {
    let body = Data(#"{"hello":"world"}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func signsTheTimestampAndTheBody() {
        // HMAC-SHA-256("whsec_test", "1800000000.{"hello":"world"}"), computed independently.
        let header = WebhookSignature.sign(secret: "whsec_test", timestamp: 1_800_000_000, body: body)
        #expect(header == "t=1800000000,v1=2cd068f37feeaf74f00c9f7a4d83905a673e537c140a834f359a77f021adc713")
    }

    @Test func verifiesOnlyAnUntouchedRecentDelivery() {
        let header = WebhookSignature.sign(secret: "whsec_test", timestamp: 1_800_000_000, body: body)
        #expect(WebhookSignature.verify(header: header, secret: "whsec_test", body: body, now: now))
        #expect(WebhookSignature.verify(header: header, secret: "whsec_test", body: body, now: now.addingTimeInterval(299)))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test", body: body, now: now.addingTimeInterval(301)))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test", body: body, now: now.addingTimeInterval(-301)))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_other", body: body, now: now))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test", body: Data(#"{"hello":"World"}"#.utf8), now: now))
        // Another timestamp with the same signature does not pass.
        let moved = header.replacingOccurrences(of: "t=1800000000", with: "t=1800000001")
        #expect(!WebhookSignature.verify(header: moved, secret: "whsec_test", body: body, now: now))
        // Several v1 values (a receiver mid-rotation), unknown entries and spaces are fine.
        let rotated = "t=1800000000, v0=abc, v1=\(String(repeating: "0", count: 64)), \(header.split(separator: ",")[1])"
        #expect(WebhookSignature.verify(header: rotated, secret: "whsec_test", body: body, now: now))
        for broken in ["", "t=1800000000", "v1=2cd068f3", "t=x,v1=2cd0", "t=1800000000,v1=zz", "garbage"] {
            #expect(!WebhookSignature.verify(header: broken, secret: "whsec_test", body: body, now: now))
        }
    }
}

/// The outbox and the delivery worker on SQLite and (when configured) PostgreSQL.
@Suite("Webhook outbox")
struct WebhookOutboxTests {
    static let url = "https://hooks.example/latchkey"

    static func service(_ runtime: LatchkeyRuntime, _ transport: FakeWebhookReceiver, batchSize: Int = 20) -> WebhookDeliveryService {
        runtime.webhookDeliveryService(transport: transport, configuration: .init(batchSize: batchSize, jitter: 0))
    }

    /// The retry jitter comes from the injected random source: with the default 20 % jitter and a pinned 0.5, a first
    /// failure is retried after exactly 27 s (30 s less 10 %), and with 0 after the full 30 s.
    @Test(arguments: [(0.5, 27.0), (0.0, 30.0)])
    func theRetryJitterComesFromTheInjectedRandomSource(random: Double, expectedDelay: TimeInterval) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(.sqlite, clock: clock, random: FixedRandom(random)) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            _ = try await runtime.webhooks.setEndpoint(url: Self.url, rotateSecret: false, tenantID: tenant, actor: .cli)
            try await runtime.webhooks.enqueue(type: "credential.revoked", tenantID: tenant, data: ["credentialId": "c1"])
            let service = runtime.webhookDeliveryService(transport: FakeWebhookReceiver(answers: [.status(500)], otherwise: .status(204)))
            #expect(try await service.runOnce() == 1)
            let delivery = try #require(
                try await runtime.webhooks.repository.deliveries(tenantID: tenant, status: nil, limit: 10, cursor: nil).items.first
            )
            #expect(delivery.nextAttemptAt == clock.now.addingTimeInterval(expectedDelay))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func nothingIsQueuedWithoutAnEndpoint(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            #expect(try await runtime.webhooks.enqueue(type: "credential.created", tenantID: tenant, data: ["credentialId": "c1"]) == nil)
            #expect(try await runtime.webhooks.repository.deliveries(tenantID: tenant, status: nil, limit: 10, cursor: nil).items.isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anEventExistsExactlyWhenItsChangeCommits(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let outbox = runtime.webhooks
            _ = try await outbox.setEndpoint(url: Self.url, rotateSecret: false, tenantID: tenant, actor: .cli)
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await runtime.database.transaction { db in
                    try await outbox.enqueue(type: "credential.revoked", tenantID: tenant, data: ["credentialId": "rolled-back"], on: db)
                    throw Abort()
                }
            }
            let committed = try await runtime.database.transaction { db in
                try await outbox.enqueue(
                    .credentialCreated,
                    tenantID: tenant,
                    data: ["credentialId": "c1", "integration": "github", "externalUserId": "alice", "scopes": ["repo"], "default": true],
                    on: db
                )
            }
            let receiver = FakeWebhookReceiver()
            #expect(try await Self.service(runtime, receiver).runOnce() == 1)
            let bodies = await receiver.bodies
            #expect(bodies.count == 1)
            let payload = try #require(bodies.first)
            #expect(!String(decoding: payload, as: UTF8.self).contains("rolled-back"))
            let event = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            #expect(event["id"] as? String == committed)
            #expect((committed ?? "").hasPrefix("evt_"))
            #expect(event["type"] as? String == "credential.created")
            #expect(event["tenant"] as? String == tenant)
            #expect(event["createdAt"] as? String == ISO8601DateFormatter().string(from: clock.now))
            let data = try #require(event["data"] as? [String: Any])
            #expect(data["integration"] as? String == "github" && data["scopes"] as? [String] == ["repo"] && data["default"] as? Bool == true)
            #expect(try await Self.service(runtime, receiver).runOnce() == 0)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func eventDataNeverCarriesSecretsOrUnknownTypes(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            _ = try await runtime.webhooks.setEndpoint(url: Self.url, rotateSecret: false, tenantID: tenant, actor: .cli)
            for data: [String: WebhookValue] in [
                ["accessToken": "gho_canary"], ["credential": ["refresh_token": "x"]], ["clientSecret": "x"], ["items": [["password": "x"]]],
            ] {
                await #expect(throws: LatchkeyError.self) {
                    try await runtime.webhooks.enqueue(type: "credential.created", tenantID: tenant, data: data)
                }
            }
            await #expect(throws: LatchkeyError.self) {
                try await runtime.webhooks.enqueue(type: "credential.exploded", tenantID: tenant, data: ["credentialId": "c1"])
            }
            #expect(try await runtime.webhooks.repository.deliveries(tenantID: tenant, status: nil, limit: 10, cursor: nil).items.isEmpty)
        }
    }

    /// A new process on the same database delivers what the old one queued, and what it was sending when it died
    /// once that lease has run out.
    @Test(arguments: TestDatabases.kinds)
    func theOutboxSurvivesARestart(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let configuration = try TestDatabases.configuration(kind)
        let first = try await LatchkeyRuntime.bootstrap(configuration: configuration, clock: clock, logger: logger)
        let tenant = first.defaultTenant.id
        var queued: [String] = []
        do {
            _ = try await first.webhooks.setEndpoint(url: Self.url, rotateSecret: false, tenantID: tenant, actor: .cli)
            for index in 0..<3 {
                let id = try await first.webhooks.enqueue(type: "credential.deleted", tenantID: tenant, data: ["credentialId": "c\(index)"])
                queued.append(try #require(id))
            }
            // The old process had leased one of them when it stopped.
            let leased = try await first.webhooks.repository.claimDue(owner: "old", now: clock.now, until: clock.now.addingTimeInterval(60), limit: 1)
            #expect(leased.count == 1)
        } catch {
            await TestDatabases.cleanUp(first)
            throw error
        }
        await first.database.close()

        let second = try await LatchkeyRuntime.bootstrap(configuration: configuration, clock: clock, logger: logger)
        do {
            let receiver = FakeWebhookReceiver()
            let service = Self.service(second, receiver)
            #expect(try await service.runOnce() == 2)
            #expect(try await service.runOnce() == 0)
            clock.advance(by: 61)
            #expect(try await service.runOnce() == 1)
            let sent = await receiver.eventIDs
            #expect(Set(sent) == Set(queued) && sent.count == 3)
            let page = try await second.webhooks.repository.deliveries(tenantID: tenant, status: .delivered, limit: 10, cursor: nil)
            #expect(page.items.count == 3)
        } catch {
            await TestDatabases.cleanUp(second)
            throw error
        }
        await TestDatabases.cleanUp(second)
    }

    /// Two workers (two instances) drain one outbox at the same time; every delivery is sent exactly once.
    @Test(arguments: TestDatabases.kinds)
    func twoWorkersNeverSendTheSameDeliveryTwice(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            _ = try await runtime.webhooks.setEndpoint(url: Self.url, rotateSecret: false, tenantID: tenant, actor: .cli)
            for index in 0..<60 {
                try await runtime.webhooks.enqueue(type: "credential.created", tenantID: tenant, data: ["credentialId": "c\(index)"])
            }
            let receiver = FakeWebhookReceiver()
            let a = Self.service(runtime, receiver, batchSize: 7)
            let b = Self.service(runtime, receiver, batchSize: 7)
            #expect(a.owner != b.owner)
            @Sendable func drain(_ service: WebhookDeliveryService) async throws -> Int {
                var total = 0
                while true {
                    let sent = try await service.runOnce()
                    if sent == 0 { return total }
                    total += sent
                }
            }
            async let first = drain(a)
            async let second = drain(b)
            let (sentByA, sentByB) = try await (first, second)
            #expect(sentByA + sentByB == 60)
            let ids = await receiver.deliveryIDs
            #expect(ids.count == 60)
            #expect(Set(ids).count == 60)
            let page = try await runtime.webhooks.repository.deliveries(tenantID: tenant, status: .delivered, limit: 100, cursor: nil)
            #expect(page.items.count == 60 && page.items.allSatisfy { $0.attempts == 1 })
        }
    }
}
