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
import Testing

/// The console's admin keys and audit pages: what the CLI and the API do, in the browser.
@Suite("Admin keys and audit pages")
struct AdminKeysAndAuditPagesTests {
    static func newKey(in html: String) -> String? {
        guard let range = html.range(of: #"id="new-key">lk_live_[A-Za-z0-9_-]+"#, options: .regularExpression) else { return nil }
        return String(html[range].dropFirst(#"id="new-key">"#.count))
    }

    static func apiStatus(_ client: any TestClientProtocol, _ key: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Bearer \(key)"]).status
    }

    @Test(arguments: TestDatabases.kinds)
    func anAdminMintsAKeyShownOnceAndRevokesItAfterConfirming(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let list = try await admin.get("/admin/keys")
            #expect(list.status == .ok && list.text.contains("Admin API keys") && list.text.contains(#"href="/admin/keys""#))
            let empty = try await admin.post("/admin/keys", ["name": "  "])
            #expect(empty.status == .badRequest && empty.text.contains("Give the key a name"))

            _ = try await admin.get("/admin/keys")
            let created = try await admin.post("/admin/keys", ["name": "billing sync"])
            #expect(created.status == .ok && created.headers[.cacheControl] == "no-store")
            #expect(created.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(created.text.contains(#"data-copy="new-key""#))
            let key = try #require(Self.newKey(in: created.text))
            #expect(try await Self.apiStatus(client, key) == .ok)
            // Never shown again.
            let again = try await admin.get("/admin/keys")
            #expect(!again.text.contains(key) && again.text.contains("billing sync") && again.text.contains(String(key.prefix(12))))
            let id = try #require(
                try await fixture.runtime.tenants.adminKeys.list(tenantID: fixture.tenantID).first { $0.name == "billing sync" }?.id
            )

            // Revoking asks first; the key works until confirmed, then never again.
            let confirm = try await admin.get("/admin/keys/\(id)/revoke")
            #expect(confirm.status == .ok && confirm.text.contains("Revoke the key “billing sync”?"))
            #expect(try await Self.apiStatus(client, key) == .ok)
            let revoked = try await admin.post("/admin/keys/\(id)/revoke")
            #expect(revoked.status == .seeOther && revoked.location == "/admin/keys")
            #expect(try await Self.apiStatus(client, key) == .unauthorized)
            let after = try await admin.get(revoked.location ?? "/admin/keys")
            #expect(after.text.contains("The key billing sync was revoked") && after.text.contains("revoked 20"))
            #expect(try await admin.get("/admin/keys/\(id)/revoke").status == .notFound)

            // Audited as the administrator who did it.
            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "admin_key.create" && $0.target == id && $0.actor.hasPrefix("user:") })
            #expect(events.contains { $0.action == "admin_key.revoke" && $0.target == id && $0.actor.hasPrefix("user:") })
            #expect(!events.contains { $0.details.values.contains(key) })
        }
    }

    @Test func membersCannotSeeOrUseThesePages() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "member@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            for path in ["/admin/keys", "/admin/audit", "/admin/audit/export"] {
                #expect(try await member.get(path).status == .forbidden, "\(path)")
            }
            #expect(try await member.post("/admin/keys", ["name": "sneaky"]).status == .forbidden)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theAuditPageFiltersChecksTheChainAndExports(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            _ = try await admin.get("/admin/keys")
            _ = try await admin.post("/admin/keys", ["name": "first"])
            let page = try await admin.get("/admin/audit")
            #expect(page.status == .ok && page.text.contains("admin_key.create") && page.text.contains("user.sign_in"))
            #expect(page.text.contains(#"<td data-label="Who">admin@example.com</td>"#), "people are shown by email, not by id")
            let filtered = try await admin.get("/admin/audit?action=admin_key.create")
            #expect(filtered.text.contains("admin_key.create") && !filtered.text.contains(#"<td data-label="What">user.sign_in</td>"#))
            let verified = try await admin.post("/admin/audit/verify")
            #expect(verified.status == .ok && verified.text.contains("The chain is intact"))
            let export = try await admin.get("/admin/audit/export?format=jsonl")
            #expect(export.status == .ok && export.headers[.contentDisposition]?.contains("latchkey-audit.jsonl") == true)
            #expect(export.text.split(separator: "\n").contains { $0.contains(#""action":"admin_key.create""#) })
        }
    }

    @Test func theAuditPageShowsOlderEventsPageByPage() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            for index in 0..<60 {
                _ = try await fixture.runtime.audit.append(
                    AuditRecord(actor: .cli, action: "test.event", target: "t\(index)"),
                    tenantID: fixture.tenantID
                )
            }
            let admin = try await AppsPagesTests.admin(client, fixture)
            let first = try await admin.get("/admin/audit?action=test.event")
            #expect(first.text.components(separatedBy: #"class="audit-event""#).count - 1 == 50)
            let older = try #require(first.text.range(of: #"href="(/admin/audit\?[^"]+)" id="older""#, options: .regularExpression))
            let link = String(first.text[older].dropFirst(6).prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            let second = try await admin.get(link)
            #expect(second.text.components(separatedBy: #"class="audit-event""#).count - 1 == 10)
            #expect(!second.text.contains(#"id="older""#))
        }
    }
}
