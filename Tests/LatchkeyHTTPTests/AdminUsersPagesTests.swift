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

/// `/admin/users` and `GET /api/v1/users`: console users managed in the browser — password reset, role, removal.
@Suite("Admin users pages")
struct AdminUsersPagesTests {
    @Test(arguments: TestDatabases.kinds)
    func aPasswordResetEndsTheirSessionsAndAGeneratedOneIsShownOnce(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            let bobBrowser = WebBrowser(client)
            _ = try await bobBrowser.signIn(email: "bob@example.com", password: "correct-horse-battery")
            #expect(try await bobBrowser.get("/connections").status == .ok)

            let list = try await admin.get("/admin/users")
            #expect(list.text.contains(#"href="/admin/users/\#(bob.id)""#) && list.text.contains(#"data-label="Role">Member"#))
            let page = try await admin.get("/admin/users/\(bob.id)")
            #expect(page.status == .ok && page.text.contains("Reset the password") && page.text.contains("bob@example.com"))

            // Too short: explained beside the field, nothing changed.
            let short = try await admin.post("/admin/users/\(bob.id)/password", ["password": "short"])
            #expect(short.status == .badRequest && short.text.contains(#"id="password-error""#) && short.text.contains("at least 12 characters"))
            #expect(try await bobBrowser.get("/connections").status == .ok)

            // Typed: Bob is signed out and signs in with the new one only.
            let typed = try await admin.post("/admin/users/\(bob.id)/password", ["password": "a-brand-new-password"])
            #expect(typed.status == .seeOther && typed.location == "/admin/users/\(bob.id)")
            #expect(try await admin.get("/admin/users/\(bob.id)").text.contains("The password of bob@example.com was changed"))
            #expect(try await bobBrowser.get("/connections").status != .ok)
            let old = WebBrowser(client)
            #expect(try await old.signIn(email: "bob@example.com", password: "correct-horse-battery").status != .seeOther)
            #expect(try await WebBrowser(client).signIn(email: "bob@example.com", password: "a-brand-new-password").status == .seeOther)

            // Generated: shown once with a copy button, and it works.
            _ = try await admin.get("/admin/users/\(bob.id)")
            let generated = try await admin.post("/admin/users/\(bob.id)/password", ["password": ""])
            #expect(generated.status == .ok && generated.headers[.cacheControl] == "no-store")
            #expect(generated.text.contains(#"data-copy="new-password""#))
            let password = try #require(generated.shownOnce("new-password", pattern: "[A-Za-z0-9_-]+"))
            #expect(!(try await admin.get("/admin/users/\(bob.id)").text.contains(password)))
            #expect(try await WebBrowser(client).signIn(email: "bob@example.com", password: password).status == .seeOther)

            // The administrator resetting their own keeps this session.
            let me = try #require(try await fixture.runtime.tenants.users.user(email: "admin@example.com", tenantID: fixture.tenantID)?.user)
            _ = try await admin.get("/admin/users/\(me.id)")
            #expect(try await admin.post("/admin/users/\(me.id)/password", ["password": "my-own-new-password"]).status == .seeOther)
            #expect(try await admin.get("/admin/users").status == .ok)

            let events = try await fixture.auditEvents()
            let resets = events.filter { $0.action == "user.password_reset" && $0.actor.hasPrefix("user:") }
            #expect(resets.map(\.target) == [bob.id, bob.id, me.id])
            let audit = events.map { "\($0)" }.joined()
            #expect(!audit.contains(password) && !audit.contains("a-brand-new-password"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func rolesChangeButTheLastAdministratorAndYouStay(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let me = try #require(try await fixture.runtime.tenants.users.user(email: "admin@example.com", tenantID: fixture.tenantID)?.user)
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            let bobBrowser = WebBrowser(client)
            _ = try await bobBrowser.signIn(email: "bob@example.com", password: "correct-horse-battery")
            #expect(try await bobBrowser.get("/admin/users").status == .forbidden)

            _ = try await admin.get("/admin/users/\(bob.id)")
            let promoted = try await admin.post("/admin/users/\(bob.id)/role", ["role": "admin"])
            #expect(promoted.status == .seeOther)
            #expect(try await admin.get("/admin/users/\(bob.id)").text.contains("bob@example.com is now an administrator."))
            #expect(try await bobBrowser.get("/admin/users").status == .ok)

            // Not your own role; and the last administrator stays one (the service refuses, whoever asks).
            let mine = try await admin.post("/admin/users/\(me.id)/role", ["role": "member"])
            #expect(mine.status == .badRequest && mine.text.contains("You cannot change your own role") && mine.text.contains(#"id="role-error""#))
            _ = try await admin.get("/admin/users/\(bob.id)")
            #expect(try await admin.post("/admin/users/\(bob.id)/role", ["role": "member"]).status == .seeOther)
            #expect(try await bobBrowser.get("/admin/users").status == .forbidden)
            await #expect(throws: LatchkeyError.self) {
                _ = try await fixture.runtime.tenants.setRole(userID: me.id, tenantID: fixture.tenantID, isAdmin: false, actor: .cli)
            }
            let bad = try await admin.post("/admin/users/\(bob.id)/role", ["role": "owner"])
            #expect(bad.status == .badRequest && bad.text.contains("Choose Administrator, Auditor or Member."))

            let changes = try await fixture.auditEvents().filter { $0.action == "user.role_change" }
            #expect(changes.map { $0.details["admin"] } == ["true", "false"] && changes.allSatisfy { $0.actor == "user:\(me.id)" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func removingAUserAsksFirstAndRefusesYourselfAndTheLastAdministrator(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let me = try #require(try await fixture.runtime.tenants.users.user(email: "admin@example.com", tenantID: fixture.tenantID)?.user)
            let bob = try await TestUsers.create(fixture, email: "bob@example.com")
            let bobBrowser = WebBrowser(client)
            _ = try await bobBrowser.signIn(email: "bob@example.com", password: "correct-horse-battery")

            // Your own page offers no removal, and the address of it says why.
            let own = try await admin.get("/admin/users/\(me.id)")
            #expect(!own.text.contains(#"id="remove-user""#) && own.text.contains("You cannot remove yourself"))
            #expect(try await admin.get("/admin/users/\(bob.id)").text.contains(#"id="remove-user""#))
            let yourself = try await admin.get("/admin/users/\(me.id)/remove")
            #expect(yourself.status == .badRequest && yourself.text.contains("You cannot remove yourself"))
            #expect(try await admin.post("/admin/users/\(me.id)/remove").status == .badRequest)
            await #expect(throws: LatchkeyError.self) {
                _ = try await fixture.runtime.tenants.removeUser(userID: me.id, tenantID: fixture.tenantID, actor: .cli)
            }

            let confirm = try await admin.get("/admin/users/\(bob.id)/remove")
            #expect(confirm.status == .ok && confirm.text.contains("Remove bob@example.com?") && confirm.text.contains(#"class="danger""#))
            #expect(try await bobBrowser.get("/connections").status == .ok)
            let removed = try await admin.post("/admin/users/\(bob.id)/remove")
            #expect(removed.status == .seeOther && removed.location == "/admin/users")
            let after = try await admin.get("/admin/users")
            #expect(after.text.contains("bob@example.com was removed") && !after.text.contains(#"data-email="bob@example.com""#))
            #expect(try await bobBrowser.get("/connections").status != .ok)
            #expect(try await WebBrowser(client).signIn(email: "bob@example.com", password: "correct-horse-battery").status != .seeOther)
            #expect(try await admin.get("/admin/users/\(bob.id)").status == .notFound)

            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "user.delete" && $0.target == bob.id && $0.actor == "user:\(me.id)" })
        }
    }

    @Test func theAddFormKeepsWhatWasTypedAndNamesTheFieldAtFault() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            _ = try await admin.get("/admin/users")
            let short = try await admin.post(
                "/admin/users",
                ["email": "carol@example.com", "name": "Carol", "password": "too-short", "admin": "1"]
            )
            #expect(short.status == .badRequest && short.text.contains(#"role="alert""#))
            #expect(short.text.contains(#"aria-describedby="password-error""#) && short.text.contains(#"id="password-error""#))
            #expect(short.text.contains(#"value="carol@example.com""#) && short.text.contains(#"value="Carol""#))
            // `admin=1` (what the form sent before roles had a select) still makes an administrator: the select keeps it.
            #expect(!short.text.contains("too-short") && short.text.contains(#"<option value="admin" selected>"#))
            let auditor = try await admin.post(
                "/admin/users",
                ["email": "dan@example.com", "name": "Dan", "password": "too-short", "role": "auditor"]
            )
            #expect(auditor.status == .badRequest && auditor.text.contains(#"<option value="auditor" selected>"#))
            let unknown = try await admin.post(
                "/admin/users",
                ["email": "dan@example.com", "name": "Dan", "password": "long-enough-password", "role": "owner"]
            )
            #expect(unknown.status == .badRequest && unknown.text.contains(#"id="new-role-error""#))
            #expect(try await fixture.runtime.tenants.users.user(email: "dan@example.com", tenantID: fixture.tenantID) == nil)
            let taken = try await admin.post("/admin/users", ["email": "admin@example.com", "name": "Again", "password": "long-enough-password"])
            #expect(taken.status == .badRequest && taken.text.contains(#"id="email-error""#) && taken.text.contains("already exists"))
            #expect(!taken.text.contains(#"id="password-error""#))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theAPIListsConsoleUsersWithoutPasswordHashes(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            try await TestUsers.create(fixture, email: "bob@example.com")
            let answer = try await client.execute(uri: "/api/v1/users", method: .get, headers: fixture.headers)
            #expect(answer.status == .ok)
            let items = try #require(try answer.json["items"] as? [[String: Any]])
            #expect(items.map { $0["email"] as? String } == ["admin@example.com", "bob@example.com"])
            #expect(items.map { $0["role"] as? String } == ["admin", "member"])
            #expect(items.allSatisfy { $0["id"] is String && $0["createdAt"] is String && $0["displayName"] is String })
            #expect(!answer.text.contains("$2") && !answer.text.lowercased().contains("password"))
            #expect(try await client.execute(uri: "/api/v1/users", method: .get).status == .unauthorized)
        }
    }
}
