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
import Synchronization
import Testing

/// The console's checks live in its route groups, not in handlers: a handler that checks nothing is still protected.
@Suite("Console route guards")
struct ConsoleGuardTests {
    /// Counts the calls that reached the unchecked handlers.
    final class Reached: Sendable {
        let count = Mutex(0)
        func hit() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    @Test func aHandlerThatChecksNothingStillNeedsAnAdministratorAndACSRFToken() async throws {
        let reached = Reached()
        let routes: @Sendable (RouterGroup<SignedInContext>, RouterGroup<AdminPageContext>) -> Void = { signedIn, admin in
            signedIn.post("unchecked/member") { _, _ in
                reached.hit()
                return "changed"
            }
            admin.get("unchecked/admin") { _, _ in
                reached.hit()
                return "secret page"
            }
            admin.post("unchecked/admin") { _, _ in
                reached.hit()
                return "changed"
            }
        }
        try await TestApp.with(.sqlite, consoleRoutes: routes) { client, fixture in
            try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            try await TestUsers.create(fixture, email: "bob@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "bob@example.com", password: "correct-horse-battery")
            _ = try await member.get("/connections")
            // A member reaches neither the admin page nor its form, even with a valid token.
            #expect(try await member.get("/unchecked/admin").status == .forbidden)
            #expect(try await member.post("/unchecked/admin").status == .forbidden)
            // A form post without the page's token never reaches the handler.
            #expect(try await member.post("/unchecked/member", [:], csrf: false).status == .forbidden)
            #expect(try await member.post("/unchecked/member", ["csrf_token": "forged-token-value"], csrf: false).status == .forbidden)
            #expect(reached.value == 0)
            // With the token, the member's form goes through.
            #expect(try await member.post("/unchecked/member").status == .ok)
            #expect(reached.value == 1)

            let admin = WebBrowser(client)
            _ = try await admin.signIn(email: "admin@example.com", password: "correct-horse-battery")
            #expect(try await admin.get("/unchecked/admin").status == .ok)
            #expect(try await admin.post("/unchecked/admin", [:], csrf: false).status == .forbidden)
            _ = try await admin.get("/connections")
            #expect(try await admin.post("/unchecked/admin").status == .ok)
            #expect(reached.value == 3)
            // Signed out: sent to sign in, never to the handler.
            #expect(try await WebBrowser(client).get("/unchecked/admin").status == .seeOther)
            #expect(reached.value == 3)
        }
    }
}
