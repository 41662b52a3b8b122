import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

@Suite("Webhooks API")
struct WebhooksAPITests {
    static let url = "https://hooks.example/latchkey/T0CANARYPATH"

    /// Sets the endpoint and returns the signing secret shown in the answer.
    static func setEndpoint(_ client: any TestClientProtocol, _ fixture: TestFixture, url: String = url) async throws -> String {
        let response = try await client.execute(uri: "/api/v1/webhooks", method: .put, headers: fixture.headers, body: try body(["url": url]))
        #expect(response.status == .created)
        return try #require(try response.json["secret"] as? String)
    }

    static func deliveries(_ client: any TestClientProtocol, _ fixture: TestFixture, query: String = "") async throws -> [[String: Any]] {
        let response = try await client.execute(uri: "/api/v1/webhooks/deliveries\(query)", method: .get, headers: fixture.headers)
        #expect(response.status == .ok)
        return try #require(try response.json["items"] as? [[String: Any]])
    }

    @Test(arguments: TestDatabases.kinds)
    func setShowChangeRotateAndDeleteTheEndpoint(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .get, headers: fixture.headers).status == .notFound)
            let created = try await client.execute(
                uri: "/api/v1/webhooks",
                method: .put,
                headers: fixture.headers,
                body: try body(["url": Self.url])
            )
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/api/v1/webhooks")
            let secret = try #require(try created.json["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && secret.count == "whsec_".count + 43)
            #expect(try created.json["url"] as? String == Self.url)
            #expect((try created.json["events"] as? [String])?.contains("credential.needs_reauth") == true)

            // Shown once: never in GET, nor in an answer that only changes the URL.
            let shown = try await client.execute(uri: "/api/v1/webhooks", method: .get, headers: fixture.headers)
            #expect(shown.status == .ok)
            #expect(try shown.json["secret"] == nil && !shown.text.contains(secret))
            let moved = try await client.execute(
                uri: "/api/v1/webhooks",
                method: .put,
                headers: fixture.headers,
                body: try body(["url": "https://hooks.example/v2"])
            )
            #expect(moved.status == .ok)
            #expect(try moved.json["secret"] == nil)
            #expect(try moved.json["url"] as? String == "https://hooks.example/v2")
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == secret)

            // Rotation makes a new one, shown once.
            let rotated = try await client.execute(
                uri: "/api/v1/webhooks",
                method: .put,
                headers: fixture.headers,
                body: try body(["url": "https://hooks.example/v2", "rotateSecret": true])
            )
            let newSecret = try #require(try rotated.json["secret"] as? String)
            #expect(rotated.status == .ok && newSecret != secret)
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == newSecret)

            // Encrypted at rest.
            let raw = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT secret FROM webhook_endpoints").first()?.decode(column: "secret", as: Data.self)
            }
            #expect(raw != nil && !String(decoding: raw!, as: UTF8.self).contains(newSecret.dropFirst(6)))

            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .delete, headers: fixture.headers).status == .noContent)
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .get, headers: fixture.headers).status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .delete, headers: fixture.headers).status == .notFound)

            // Audited with fingerprints, never the secret or the URL's path.
            let events = try await fixture.auditEvents()
            let actions = events.map(\.action)
            #expect(["webhook.create", "webhook.update", "webhook.rotate_secret", "webhook.delete"].allSatisfy(actions.contains))
            #expect(events.first { $0.action == "webhook.create" }?.details["secret_fp"] == fixture.runtime.keyring.fingerprint(secret))
            #expect(events.first { $0.action == "webhook.create" }?.details["host"] == "hooks.example")
            let audit = events.map { "\($0)" }.joined()
            #expect(!audit.contains(secret) && !audit.contains(newSecret) && !audit.contains("T0CANARYPATH"))
        }
    }

    @Test func badInputIsExplainedFieldByField() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            func put(_ object: [String: Any]) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/webhooks", method: .put, headers: fixture.headers, body: try body(object))
            }
            for url in [
                "http://hooks.example/in", "ftp://hooks.example/in", "hooks.example/in", "https://", "https://user:pw@hooks.example/in",
                "https://hooks.example/in#frag", "https://localhost/in", "https://127.0.0.1/in", "https://10.1.2.3/in", "https://[::1]/in",
                "https://169.254.169.254/latest", "", "https://hooks.example/" + String(repeating: "a", count: 2050),
            ] {
                let answer = try await put(["url": url])
                #expect(answer.status == .badRequest, "\(url)")
                #expect(answer.errorFields == ["url"], "\(url)")
            }
            #expect(try await put([:]).errorFields == ["url"])
            #expect(try await put(["url": 5]).errorFields == ["url"])
            #expect(try await put(["url": "https://hooks.example/in", "rotateSecret": "yes"]).errorFields == ["rotateSecret"])
            #expect(try await put(["url": "https://hooks.example/in", "secret": "mine"]).errorFields == ["secret"])
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .get, headers: fixture.headers).status == .notFound)

            for query in ["?status=lost", "?limit=0", "?limit=500", "?cursor=%%%"] {
                let answer = try await client.execute(uri: "/api/v1/webhooks/deliveries\(query)", method: .get, headers: fixture.headers)
                #expect(answer.status == .badRequest, "\(query)")
            }
            let badID = try await client.execute(uri: "/api/v1/webhooks/deliveries/nope/replay", method: .post, headers: fixture.headers)
            #expect(badID.status == .badRequest && badID.errorFields == ["id"])
            let noKey = try await client.execute(uri: "/api/v1/webhooks", method: .get)
            #expect(noKey.status == .unauthorized)
        }
        // Demo and tests: private targets and plain http are allowed when asked for.
        let allowPrivateNetwork: (inout ServerConfiguration) -> Void = { $0.allowPrivateNetwork = true }
        try await TestApp.with(.sqlite, configure: allowPrivateNetwork) { client, fixture in
            let answer = try await client.execute(
                uri: "/api/v1/webhooks",
                method: .put,
                headers: fixture.headers,
                body: try body(["url": "http://127.0.0.1:9999/hook"])
            )
            #expect(answer.status == .created)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func eventsAreDeliveredSigned(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let secret = try await Self.setEndpoint(client, fixture)
            let eventID = try await fixture.runtime.webhooks.enqueue(
                type: "credential.needs_reauth",
                tenantID: fixture.tenantID,
                data: ["credentialId": "c1", "integration": "github", "status": "needs_reauth", "reason": "invalid_grant"]
            )
            let receiver = FakeWebhookReceiver()
            let service = fixture.runtime.webhookDeliveryService(transport: receiver)
            #expect(try await service.runOnce() == 1)
            let request = try #require(await receiver.requests.first)
            #expect(request.method == "POST" && request.url.absoluteString == Self.url)
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.header("Latchkey-Event") == "credential.needs_reauth")
            let body = try #require(request.body)
            let signature = try #require(request.header("Latchkey-Signature"))
            #expect(signature.hasPrefix("t=\(Int(clock.now.timeIntervalSince1970)),v1="))
            #expect(WebhookSignature.verify(header: signature, secret: secret, body: body, now: clock.now))
            #expect(!WebhookSignature.verify(header: signature, secret: secret, body: body + Data(" ".utf8), now: clock.now))
            let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(event["id"] as? String == eventID)
            #expect((event["data"] as? [String: String])?["reason"] == "invalid_grant")

            let items = try await Self.deliveries(client, fixture)
            #expect(items.count == 1)
            let item = try #require(items.first)
            #expect(request.header("Latchkey-Delivery") == item["id"] as? String)
            #expect(item["status"] as? String == "delivered" && item["attempts"] as? Int == 1 && item["lastStatusCode"] as? Int == 200)
            #expect(item["eventId"] as? String == eventID && (item["event"] as? [String: Any])?["type"] as? String == "credential.needs_reauth")
            #expect(item["deliveredAt"] != nil && item["nextAttemptAt"] == nil)
        }
    }

    /// 500, a time-out and an unreachable host are retried after 30 s, 1 min and 2 min; the old attempt is never
    /// repeated early.
    @Test(arguments: TestDatabases.kinds)
    func failuresAreRetriedWithBackoff(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            _ = try await Self.setEndpoint(client, fixture)
            try await fixture.runtime.webhooks.enqueue(type: "credential.revoked", tenantID: fixture.tenantID, data: ["credentialId": "c1"])
            let receiver = FakeWebhookReceiver(answers: [.status(500), .timeout, .unreachable], otherwise: .status(204))
            let service = fixture.runtime.webhookDeliveryService(transport: receiver, configuration: .init(jitter: 0))
            let start = clock.now
            #expect(try await service.runOnce() == 1)
            var item = try #require(try await Self.deliveries(client, fixture).first)
            #expect(item["status"] as? String == "failed" && item["lastStatusCode"] as? Int == 500)
            #expect(item["lastError"] as? String == "The endpoint answered with HTTP 500.")
            #expect(item["nextAttemptAt"] as? String == ISO8601DateFormatter().string(from: start.addingTimeInterval(30)))
            var expectedErrors = ["hooks.example did not answer in time.", "Could not reach hooks.example."]
            for delay in [30.0, 60, 120] {
                clock.advance(by: delay - 1)
                #expect(try await service.runOnce() == 0)
                clock.advance(by: 1)
                #expect(try await service.runOnce() == 1)
                item = try #require(try await Self.deliveries(client, fixture).first)
                if !expectedErrors.isEmpty {
                    #expect(item["status"] as? String == "failed" && item["lastStatusCode"] == nil)
                    #expect(item["lastError"] as? String == expectedErrors.removeFirst())
                }
            }
            #expect(item["status"] as? String == "delivered" && item["attempts"] as? Int == 4 && item["lastStatusCode"] as? Int == 204)
            #expect(await receiver.requests.count == 4)
        }
    }

    @Test func backoffDoublesWithJitterUpToAnHour() {
        let configuration = WebhookDeliveryService.Configuration()
        #expect(configuration.retryDelay(afterAttempts: 1, random: 0) == 30)
        #expect(configuration.retryDelay(afterAttempts: 2, random: 0) == 60)
        #expect(configuration.retryDelay(afterAttempts: 3, random: 0) == 120)
        #expect(configuration.retryDelay(afterAttempts: 8, random: 0) == 3600)
        #expect(configuration.retryDelay(afterAttempts: 500, random: 0) == 3600)
        #expect(configuration.retryDelay(afterAttempts: 1, random: 0.999) > 24 && configuration.retryDelay(afterAttempts: 1, random: 0.999) < 30)
    }

    /// A receiver that never accepts is retried for 24 hours, then the delivery is dead; replay sends it again.
    @Test(arguments: TestDatabases.kinds)
    func deadLetteredAfterADayThenReplayed(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            _ = try await Self.setEndpoint(client, fixture)
            try await fixture.runtime.webhooks.enqueue(type: "connection.health_changed", tenantID: fixture.tenantID, data: ["health": "degraded"])
            let receiver = FakeWebhookReceiver(otherwise: .status(503))
            let service = fixture.runtime.webhookDeliveryService(transport: receiver)
            let start = clock.now
            var attemptTimes: [Date] = []
            let deliveryID = try #require(try await Self.deliveries(client, fixture).first?["id"] as? String)
            for _ in 0..<100 {
                if try await service.runOnce() == 1 { attemptTimes.append(clock.now) }
                let delivery = try #require(try await fixture.runtime.webhooks.repository.delivery(id: deliveryID, tenantID: fixture.tenantID))
                if delivery.status == .dead { break }
                clock.advance(by: delivery.nextAttemptAt.timeIntervalSince(clock.now))
            }
            let item = try #require(try await Self.deliveries(client, fixture, query: "?status=dead").first)
            #expect(item["lastError"] as? String == "The endpoint answered with HTTP 503.")
            #expect(item["nextAttemptAt"] == nil)
            let last = try #require(attemptTimes.last)
            #expect(last.timeIntervalSince(start) >= 24 * 3600)
            #expect(last.timeIntervalSince(start) < 24 * 3600 + 60)
            let gaps = zip(attemptTimes.dropFirst(), attemptTimes).map { $0.timeIntervalSince($1) }
            #expect(gaps.allSatisfy { $0 <= 3600 })
            #expect(gaps.first.map { $0 >= 24 } == true)
            #expect(attemptTimes.count == item["attempts"] as? Int)
            #expect(try await service.runOnce() == 0)
            clock.advance(by: 7200)
            #expect(try await service.runOnce() == 0)

            // Replay: sent again now, and delivered when the receiver is back.
            await receiver.answer(otherwise: .status(200))
            let id = try #require(item["id"] as? String)
            let replayed = try await client.execute(uri: "/api/v1/webhooks/deliveries/\(id)/replay", method: .post, headers: fixture.headers)
            #expect(replayed.status == .accepted)
            #expect(try replayed.json["status"] as? String == "pending")
            #expect(try await service.runOnce() == 1)
            let delivered = try #require(try await Self.deliveries(client, fixture).first)
            #expect(delivered["status"] as? String == "delivered")
            let sentIDs = await receiver.deliveryIDs
            #expect(Set(sentIDs) == [id])
            let unknown = try await client.execute(
                uri: "/api/v1/webhooks/deliveries/\(UUID().uuidString.lowercased())/replay",
                method: .post,
                headers: fixture.headers
            )
            #expect(unknown.status == .notFound)
            let audit = try await fixture.auditEvents()
            #expect(audit.contains { $0.action == "webhook.replay" && $0.target == id })

            // Without an endpoint there is nothing to replay to; waiting deliveries are dead-lettered on removal.
            try await fixture.runtime.webhooks.enqueue(type: "credential.deleted", tenantID: fixture.tenantID, data: ["credentialId": "c9"])
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .delete, headers: fixture.headers).status == .noContent)
            let waiting = try #require(try await Self.deliveries(client, fixture).first)
            #expect(waiting["status"] as? String == "dead")
            let refused = try await client.execute(
                uri: "/api/v1/webhooks/deliveries/\(id)/replay",
                method: .post,
                headers: fixture.headers
            )
            #expect(refused.status == .conflict)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deliveriesAreListedNewestFirstInPages(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            _ = try await Self.setEndpoint(client, fixture)
            for index in 0..<5 {
                try await fixture.runtime.webhooks.enqueue(
                    type: "credential.created",
                    tenantID: fixture.tenantID,
                    data: ["credentialId": "c\(index)"]
                )
                clock.advance(by: 1)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = "?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.execute(uri: "/api/v1/webhooks/deliveries\(query)", method: .get, headers: fixture.headers)
                let items = try #require(try page.json["items"] as? [[String: Any]])
                #expect(items.count <= 2)
                seen += items.compactMap { (($0["event"] as? [String: Any])?["data"] as? [String: String])?["credentialId"] }
                cursor = try page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == ["c4", "c3", "c2", "c1", "c0"])
            #expect(try await Self.deliveries(client, fixture, query: "?status=pending").count == 5)
            #expect(try await Self.deliveries(client, fixture, query: "?status=delivered").isEmpty)
        }
    }

    /// The signing secret and the URL's path never show up in logs, errors, audit, metrics, list answers or payloads.
    @Test(arguments: TestDatabases.kinds)
    func theSigningSecretStaysSecret(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let secret = try await Self.setEndpoint(client, fixture)
            try await fixture.runtime.webhooks.enqueue(type: "credential.created", tenantID: fixture.tenantID, data: ["credentialId": "c1"])
            let receiver = FakeWebhookReceiver(answers: [.status(500), .timeout], otherwise: .status(200))
            let service = fixture.runtime.webhookDeliveryService(transport: receiver, configuration: .init(jitter: 0))
            for _ in 0..<3 {
                _ = try await service.runOnce()
                clock.advance(by: 3600)
            }
            var answers: [String] = []
            for (uri, method) in [
                ("/api/v1/webhooks", HTTPRequest.Method.get), ("/api/v1/webhooks/deliveries", .get),
                ("/api/v1/webhooks/deliveries?status=nope", .get), ("/api/v1/webhooks/deliveries/nope/replay", .post),
            ] {
                answers.append(try await client.execute(uri: uri, method: method, headers: fixture.headers).text)
            }
            let rotatedAway = try await client.execute(
                uri: "/api/v1/webhooks",
                method: .put,
                headers: fixture.headers,
                body: try body(["url": Self.url, "rotateSecret": "\(secret)"])
            )
            answers.append(rotatedAway.text)
            let requests = await receiver.requests
            #expect(requests.count == 3)
            let payloads = requests.compactMap(\.body).map { String(decoding: $0, as: UTF8.self) }
            let otherHeaders = requests.flatMap { $0.headers.filter { $0.name != "Latchkey-Signature" }.map(\.value) }
            let audit = try await fixture.auditEvents().map { "\($0)" }
            let places = ["logs": fixture.logs.text, "metrics": TestMetrics.text, "answers": answers.joined(), "payloads": payloads.joined()]
                .merging(["headers": otherHeaders.joined(), "audit": audit.joined()]) { $1 }
            for (place, text) in places {
                #expect(!text.contains(secret), "the signing secret leaked into \(place)")
                #expect(!text.contains(String(secret.dropFirst(6).prefix(20))), "part of the signing secret leaked into \(place)")
            }
            #expect(!fixture.logs.text.contains("T0CANARYPATH"))
            #expect(fixture.logs.text.contains("webhook delivery failed"))
        }
    }
}
