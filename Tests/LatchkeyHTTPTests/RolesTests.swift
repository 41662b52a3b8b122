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

/// Roles: an auditor — a console user or an admin key — reads everything an administrator reads and changes nothing.
@Suite("Roles")
struct RolesTests {
    @Test(arguments: TestDatabases.kinds)
    func anAuditorsKeyReadsEveryListAndIsRefusedEveryChange(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            try await TestIntegrations.sandbox(fixture)
            let (key, auditorKey) = try await fixture.runtime.tenants.createAdminKey(
                tenantID: fixture.tenantID,
                name: "compliance",
                role: .auditor,
                actor: .cli
            )
            #expect(key.role == .auditor)
            let stored = try #require(try await fixture.runtime.tenants.adminKeys.list(tenantID: fixture.tenantID).first { $0.id == key.id })
            #expect(stored.role == .auditor)
            let auditor: HTTPFields = [.authorization: "Bearer \(auditorKey)", .contentType: "application/json"]

            for path in ["/api/v1/users", "/api/v1/integrations", "/api/v1/audit", "/api/v1/apps", "/api/v1/requests"] {
                let read = try await client.execute(uri: path, method: .get, headers: auditor)
                #expect(read.status == .ok, "GET \(path) answered \(read.status)")
            }

            let keys = try await client.execute(uri: "/api/v1/admin-keys", method: .get, headers: auditor)
            let listed = try (keys.json["items"] as? [[String: Any]] ?? []).first { $0["id"] as? String == key.id }
            #expect(listed?["role"] as? String == "auditor" && !keys.text.contains(auditorKey))
            let revoke = try await client.execute(uri: "/api/v1/admin-keys/\(key.id)/revoke", method: .post, headers: auditor)
            #expect(revoke.status == .forbidden)

            let integrations = try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).count
            let create = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: auditor,
                body: try body(["provider": "github", "key": "github", "clientId": "c", "clientSecret": "s"])
            )
            #expect(create.status == .forbidden)
            #expect(create.errorCode == "forbidden")
            #expect(create.text.contains("auditor's key") && !create.text.contains(auditorKey))
            #expect(try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).count == integrations)

            let delete = try await client.execute(uri: "/api/v1/integrations/sandbox", method: .delete, headers: auditor)
            #expect(delete.status == .forbidden)
            #expect(try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).count == integrations)

            // Acting as someone at a provider is not reading what Latchkey holds: a token, the proxy, even a GET.
            let token = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: auditor,
                body: try body(["integration": "sandbox", "externalUserId": "alice"])
            )
            #expect(token.status == .forbidden)
            var asAlice = auditor
            asAlice[HTTPField.Name("Latchkey-End-User")!] = "alice"
            let proxy = try await client.execute(uri: "/api/v1/proxy/sandbox/me", method: .get, headers: asAlice)
            #expect(proxy.status == .forbidden && proxy.text.contains("cannot call a provider"))

            // The administrator's key is untouched by all this.
            let admin = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "github", "key": "github", "clientId": "c", "clientSecret": "s"])
            )
            #expect(admin.status == .created)
            let created = try await fixture.auditEvents().filter { $0.action == "admin_key.create" && $0.target == key.id }
            #expect(created.count == 1 && created.first?.details["role"] == "auditor")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAuditorInTheConsoleSeesTheAdministrationAndCanChangeNothingButTheirOwnSignIn(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            try await TestIntegrations.sandbox(fixture)
            let ana = try await TestUsers.create(fixture, email: "ana@example.com", role: .auditor)
            let auditor = WebBrowser(client)
            let signedIn = try await auditor.signIn(email: "ana@example.com", password: "correct-horse-battery")
            #expect(signedIn.status == .seeOther)
            #expect(try await auditor.get("/").location == "/admin")

            let users = try await auditor.get("/admin/users")
            #expect(users.status == .ok)
            #expect(users.text.contains(#"id="read-only""#) && users.text.contains(" data-read-only>"))
            #expect(users.text.contains(#"data-label="Role">Auditor"#) && users.text.contains(#"href="/admin/integrations""#))
            for path in ["/admin", "/admin/integrations", "/admin/apps", "/admin/keys", "/admin/audit", "/admin/webhooks"] {
                #expect(try await auditor.get(path).status == .ok, "\(path)")
            }

            // Every change is refused before any handler runs, and nothing changes.
            let add = try await auditor.post("/admin/users", ["email": "eve@example.com", "name": "Eve", "password": "a-long-password-123"])
            #expect(add.status == .forbidden && add.text.contains("You are an auditor"))
            #expect(try await fixture.runtime.tenants.users.user(email: "eve@example.com", tenantID: fixture.tenantID) == nil)
            #expect(try await auditor.post("/admin/keys", ["name": "mine"]).status == .forbidden)
            #expect(try await fixture.runtime.tenants.adminKeys.list(tenantID: fixture.tenantID).count == 1)
            #expect(try await auditor.post("/connections/sandbox/connect").status == .forbidden)

            // Checking the audit chain only reads; their own settings and signing out stay theirs.
            #expect(try await auditor.post("/admin/audit/verify").status != .forbidden)
            let settings = try await auditor.get("/settings")
            #expect(settings.status == .ok && !settings.text.contains(#"id="read-only""#) && !settings.text.contains(" data-read-only>"))
            #expect(try await auditor.post("/logout").status == .seeOther)
            #expect(try await auditor.get("/admin/users").status != .ok)

            // An administrator makes a member an auditor (and back) on the user's page; the API says so too.
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            _ = try await admin.get("/admin/users/\(bob.id)")
            let changed = try await admin.post("/admin/users/\(bob.id)/role", ["role": "auditor"])
            #expect(changed.status == .seeOther)
            #expect(try await admin.get("/admin/users/\(bob.id)").text.contains("bob@example.com is now an auditor."))
            let listed = try await client.execute(uri: "/api/v1/users", method: .get, headers: fixture.headers)
            let roles = try (listed.json["items"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
                $0[$1["email"] as? String ?? ""] = $1["role"] as? String
            }
            #expect(roles == ["admin@example.com": "admin", "ana@example.com": "auditor", "bob@example.com": "auditor"])
            let nonsense = try await admin.post("/admin/users/\(bob.id)/role", ["role": "owner"])
            #expect(nonsense.status == .badRequest && nonsense.text.contains("Choose Administrator, Auditor or Member."))
            let change = try #require(try await fixture.auditEvents().last { $0.action == "user.role_change" })
            #expect(change.target == bob.id && change.details["role"] == "auditor")

            // A member sees none of it.
            _ = try await admin.post("/admin/users/\(bob.id)/role", ["role": "member"])
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "bob@example.com", password: "correct-horse-battery")
            #expect(try await member.get("/admin/users").status == .forbidden)
            _ = ana
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theLastAdministratorCannotBecomeAnAuditor(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            _ = try await AppsPagesTests.admin(client, fixture)
            let me = try #require(try await fixture.runtime.tenants.users.user(email: "admin@example.com", tenantID: fixture.tenantID)?.user)
            await #expect(throws: LatchkeyError.self) {
                try await fixture.runtime.tenants.setRole(userID: me.id, tenantID: fixture.tenantID, role: .auditor, actor: .cli)
            }
            #expect(try await fixture.runtime.tenants.users.user(id: me.id, tenantID: fixture.tenantID)?.role == .admin)
            #expect(try await fixture.runtime.tenants.users.adminExists(tenantID: fixture.tenantID))
        }
    }
}
