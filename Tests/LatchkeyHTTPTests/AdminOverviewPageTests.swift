import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// `/admin`: the administrator's overview, with counts and what needs attention.
@Suite("Admin overview page")
struct AdminOverviewPageTests {
    static func count(_ label: String, in html: String) -> String? {
        let marker = #"<p class="meta">\#(label)</p><p><strong>"#
        guard let range = html.range(of: marker) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "<" })
    }

    @Test(arguments: TestDatabases.kinds)
    func anAdministratorLandsOnTheOverviewAndSeesWhatNeedsAttention(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let home = try await admin.get("/")
            #expect(home.status == .seeOther && home.location == "/admin")

            let calm = try await admin.get("/admin")
            #expect(calm.status == .ok && calm.text.contains(#"id="all-good""#) && !calm.text.contains(#"class="error attention""#))
            #expect(Self.count("Users", in: calm.text) == "1" && Self.count("Connected accounts", in: calm.text) == "0")
            #expect(calm.text.contains(#"href="/admin/connections""#))

            // An account needing reconnection, an integration the provider refused, a dead webhook event.
            let created = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(CredentialsAPITests.github)
            )
            #expect(created.status == .created)
            let credentialID = try #require(try created.json["id"] as? String)
            _ = try await WebhooksAPITests.setEndpoint(client, fixture)
            let delivery = try await fixture.runtime.webhooks.sendTestEvent(tenantID: fixture.tenantID, actor: .cli)
            try await fixture.runtime.database.write { db in
                try await db.raw("UPDATE credentials SET status = 'needs_reauth' WHERE id = \(bind: credentialID)").run()
                try await db.raw("UPDATE integrations SET status = 'misconfigured' WHERE key = 'github' AND tenant_id = \(bind: fixture.tenantID)")
                    .run()
                try await db.raw("UPDATE webhook_deliveries SET status = 'dead' WHERE id = \(bind: delivery.id)").run()
            }

            let page = try await admin.get("/admin")
            #expect(!page.text.contains(#"id="all-good""#))
            #expect(Self.count("Connected accounts", in: page.text) == "1")
            #expect(page.text.contains(#"data-kind="integration-misconfigured""#) && page.text.contains("GitHub refused this server"))
            #expect(
                page.text.contains(#"data-kind="needs-reauth" data-integration="github""#)
                    && page.text.contains("1 connected account needs reconnecting")
            )
            #expect(page.text.contains(#"data-kind="dead-deliveries""#) && page.text.contains("1 webhook event was given up"))
            #expect(page.text.contains(#"<a href="/admin/webhooks">Open Webhooks</a>"#))
            #expect(page.text.contains(#"<a href="/admin/integrations">Open Integrations</a>"#))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anOverdueKeyRotationIsShownUntilTheKeyIsRotated(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            clock.advance(by: 91 * 86_400)
            // Due, but the scheduler still has its day of grace.
            let admin = try await AppsPagesTests.admin(client, fixture)
            #expect(!(try await admin.get("/admin")).text.contains(#"data-kind="key-rotation-overdue""#))
            clock.advance(by: 86_400)
            // Signed in again (the session's idle limit has passed).
            let later = WebBrowser(client)
            _ = try await later.signIn(email: "admin@example.com", password: "correct-horse-battery")
            let overdue = try await later.get("/admin")
            #expect(overdue.text.contains(#"data-kind="key-rotation-overdue""#) && overdue.text.contains("The data key is 92 days old"))
            #expect(!overdue.text.contains(#"id="all-good""#))

            try await fixture.runtime.keyRotationScheduler().check()
            let rotated = try await later.get("/admin")
            #expect(!rotated.text.contains("key-rotation-overdue") && rotated.text.contains(#"id="all-good""#))
        }
    }

    @Test func membersKeepGoingToTheirConnections() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "member@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            let home = try await member.get("/")
            #expect(home.status == .seeOther && home.location == "/connections")
            #expect(try await member.get("/admin").status == .forbidden)
        }
    }
}
