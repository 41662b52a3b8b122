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

/// `/admin/webhooks` and `POST /api/v1/webhooks/test`: the tenant's webhook in the browser, through the outbox calls
/// the API uses.
@Suite("Admin webhooks page")
struct AdminWebhooksPagesTests {
    @Test(arguments: TestDatabases.kinds)
    func anAdminSetsRotatesAndRemovesTheEndpoint(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let empty = try await admin.get("/admin/webhooks")
            #expect(empty.status == .ok && empty.text.contains(#"id="no-endpoint""#) && empty.text.contains(#"id="no-deliveries""#))
            // The hint names the schemes this server accepts: https only, private networks being refused here.
            #expect(empty.text.contains("(https://…)") && !empty.text.contains("http://…"))

            // A bad address is explained beside the field, the typed value kept.
            let bad = try await admin.post("/admin/webhooks", ["url": "https://127.0.0.1/in"])
            #expect(bad.status == .badRequest && bad.text.contains(#"aria-invalid="true""#) && bad.text.contains(#"id="url-error""#))
            #expect(bad.text.contains("The address must not point at this machine") && bad.text.contains(#"value="https://127.0.0.1/in""#))
            #expect(try await fixture.runtime.webhooks.endpoint(tenantID: fixture.tenantID) == nil)

            // Set: the secret is shown once, with a copy button.
            let created = try await admin.post("/admin/webhooks", ["url": WebhooksAPITests.url])
            #expect(created.status == .ok && created.headers[.cacheControl] == "no-store")
            #expect(
                created.text.contains(#"data-copy="signing-secret""#)
                    && created.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true
            )
            let secret = try #require(created.shownOnce("signing-secret", pattern: "whsec_[A-Za-z0-9_-]+"))
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == secret)
            let shown = try await admin.get("/admin/webhooks")
            #expect(!shown.text.contains(secret) && shown.text.contains(WebhooksAPITests.url) && shown.text.contains(#"id="send-test""#))

            // Changing the address keeps the secret.
            let moved = try await admin.post("/admin/webhooks", ["url": "https://hooks.example/v2"])
            #expect(moved.status == .seeOther && moved.location == "/admin/webhooks")
            #expect(try await admin.get("/admin/webhooks").text.contains("Events now go to hooks.example."))
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == secret)

            // Rotating asks first, then shows the new secret once.
            let confirmRotate = try await admin.get("/admin/webhooks/rotate")
            #expect(confirmRotate.status == .ok && confirmRotate.text.contains("Rotate the signing secret?"))
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == secret)
            let rotated = try await admin.post("/admin/webhooks/rotate")
            let newSecret = try #require(rotated.shownOnce("signing-secret", pattern: "whsec_[A-Za-z0-9_-]+"))
            #expect(newSecret != secret && rotated.text.contains("The old secret no longer signs events"))
            #expect(try await fixture.runtime.webhooks.target(tenantID: fixture.tenantID)?.secret == newSecret)

            // Removing asks first.
            let confirmRemove = try await admin.get("/admin/webhooks/remove")
            #expect(
                confirmRemove.status == .ok && confirmRemove.text.contains("Remove the webhook?") && confirmRemove.text.contains(#"class="danger""#)
            )
            #expect(try await fixture.runtime.webhooks.endpoint(tenantID: fixture.tenantID) != nil)
            let removed = try await admin.post("/admin/webhooks/remove")
            #expect(removed.status == .seeOther)
            #expect(try await fixture.runtime.webhooks.endpoint(tenantID: fixture.tenantID) == nil)
            #expect(try await admin.get("/admin/webhooks").text.contains("The webhook to hooks.example was removed"))
            #expect(try await admin.get("/admin/webhooks/rotate").status == .notFound)

            // Audited as the API's, as the administrator, never with the secret or the URL's path.
            let events = try await fixture.auditEvents()
            for action in ["webhook.create", "webhook.update", "webhook.rotate_secret", "webhook.delete"] {
                #expect(events.contains { $0.action == action && $0.actor.hasPrefix("user:") }, "\(action)")
            }
            let audit = events.map { "\($0)" }.joined()
            #expect(!audit.contains(secret) && !audit.contains(newSecret) && !audit.contains("T0CANARYPATH"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aTestEventArrivesAndDeliveriesCanBeReplayed(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            _ = try await admin.get("/admin/webhooks")
            let refused = try await admin.post("/admin/webhooks/test")
            #expect(refused.status == .seeOther)
            #expect(try await admin.get("/admin/webhooks").text.contains("Set an endpoint first"))

            let secret = try await WebhooksAPITests.setEndpoint(client, fixture)
            _ = try await admin.get("/admin/webhooks")
            let sent = try await admin.post("/admin/webhooks/test")
            #expect(sent.status == .seeOther)
            let queued = try await admin.get("/admin/webhooks")
            #expect(queued.text.contains("A test event (webhook.test) was queued"))
            #expect(queued.text.contains(#"data-event-type="webhook.test""#) && queued.text.contains("waiting to be sent"))

            // Sent through the outbox like any event, signed.
            let receiver = FakeWebhookReceiver()
            #expect(try await fixture.runtime.webhookDeliveryService(transport: receiver).runOnce() == 1)
            let request = try #require(await receiver.requests.first)
            #expect(request.header("Latchkey-Event") == "webhook.test")
            let signature = try #require(request.header("Latchkey-Signature"))
            #expect(WebhookSignature.verify(header: signature, secret: secret, body: try #require(request.body), now: clock.now))
            let delivered = try await admin.get("/admin/webhooks")
            #expect(delivered.text.contains(#"<span class="status">delivered</span>"#))

            // A dead delivery is marked, its error in plain words, and Replay queues it again.
            let page = try await fixture.runtime.webhooks.repository.deliveries(tenantID: fixture.tenantID, status: nil, limit: 1, cursor: nil)
            let deliveryID = try #require(page.items.first?.id)
            try await fixture.runtime.database.write { db in
                try await db.raw(
                    "UPDATE webhook_deliveries SET status = 'dead', last_error = 'hooks.example did not answer within 10 seconds.' WHERE id = \(bind: deliveryID)"
                ).run()
            }
            let dead = try await admin.get("/admin/webhooks")
            #expect(dead.text.contains(#"class="webhook-delivery dead""#) && dead.text.contains("dead: given up"))
            #expect(dead.text.contains("hooks.example did not answer within 10 seconds."))
            let replayed = try await admin.post("/admin/webhooks/deliveries/\(deliveryID)/replay")
            #expect(replayed.status == .seeOther)
            #expect(try await admin.get("/admin/webhooks").text.contains("The webhook.test event was queued again"))
            #expect(try await fixture.runtime.webhooks.repository.delivery(id: deliveryID, tenantID: fixture.tenantID)?.status == .pending)
            #expect(try await admin.post("/admin/webhooks/deliveries/\(UUID().uuidString.lowercased())/replay").status == .notFound)

            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "webhook.test" && $0.actor.hasPrefix("user:") })
            #expect(events.contains { $0.action == "webhook.replay" && $0.target == deliveryID && $0.actor.hasPrefix("user:") })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theAPISendsATestEvent(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let none = try await client.execute(uri: "/api/v1/webhooks/test", method: .post, headers: fixture.headers)
            #expect(none.status == .notFound && none.text.contains("No webhook endpoint is set"))
            _ = try await WebhooksAPITests.setEndpoint(client, fixture)
            let sent = try await client.execute(uri: "/api/v1/webhooks/test", method: .post, headers: fixture.headers)
            #expect(sent.status == .accepted)
            #expect(try sent.json["type"] as? String == "webhook.test")
            #expect(try sent.json["status"] as? String == "pending")
            let items = try await WebhooksAPITests.deliveries(client, fixture)
            #expect(items.map { $0["type"] as? String } == ["webhook.test"])
            let events = try await fixture.auditEvents()
            let sentID = try sent.json["id"] as? String
            #expect(events.contains { $0.action == "webhook.test" && $0.target == sentID })
            #expect(try await client.execute(uri: "/api/v1/webhooks/test", method: .post).status == .unauthorized)
        }
    }

    @Test func membersCannotSeeOrUseThePage() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "member@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            #expect(try await member.get("/admin/webhooks").status == .forbidden)
            #expect(try await member.post("/admin/webhooks", ["url": WebhooksAPITests.url]).status == .forbidden)
            #expect(try await member.post("/admin/webhooks/test").status == .forbidden)
        }
    }
}
