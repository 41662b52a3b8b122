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

/// The sign-in throttle: growing waits that slow an attacker without locking out the person with the password.
@Suite("Sign-in throttle")
struct LoginThrottleTests {
    static let right = "correct-horse-battery"
    static let wrong = "not-the-password"

    static func signInFailures(_ fixture: TestFixture) async throws -> [AuditEvent] {
        try await fixture.auditEvents()
            .filter { $0.action == "user.sign_in" && $0.result == "failure" }
    }

    @Test func waitsGrowFromOneSecondAfterThreeFailuresAndRefusedAttemptsAreAudited() async throws {
        let clock = TestClock()
        try await TestApp.with(.sqlite, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.get("/login")
            for _ in 0..<2 {
                let free = try await browser.post("/login", ["email": "alice@example.com", "password": Self.wrong])
                #expect(free.status == .unauthorized && free.headers[.retryAfter] == nil)
                #expect(free.text.contains("That email and password do not match."))
            }
            var expected = 1
            for _ in 0..<12 {
                let failed = try await browser.post("/login", ["email": "alice@example.com", "password": Self.wrong])
                #expect(failed.status == .unauthorized)
                #expect(failed.headers[.retryAfter] == String(expected))
                // Refused at once while waiting, even with the right password, and not counted.
                let early = try await browser.post("/login", ["email": "alice@example.com", "password": Self.right])
                #expect(early.status == .tooManyRequests)
                #expect(early.headers[.retryAfter] == String(expected))
                #expect(early.text.contains("Try again in \(expected) second"))
                clock.advance(by: TimeInterval(expected))
                expected = min(expected * 2, 300)
            }
            #expect(expected == 300)  // the cap was reached
            let done = try await browser.post("/login", ["email": "alice@example.com", "password": Self.right])
            #expect(done.status == .seeOther)

            let failures = try await Self.signInFailures(fixture)
            #expect(failures.filter { $0.details["reason"] == "bad_password" }.count == 14)
            #expect(failures.filter { $0.details["reason"] == "throttled" }.count == 12)
            #expect(failures.allSatisfy { !$0.details.values.contains { $0.contains(Self.wrong) } })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theOwnerAtAKnownBrowserGetsInWhileAnAttackerHammersTheAccount(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestApp.with(kind, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let owner = WebBrowser(client)
            #expect(try await owner.signIn(email: "alice@example.com", password: Self.right).status == .seeOther)
            _ = try await owner.get("/connections")
            #expect(try await owner.post("/logout").location == "/login")

            // From the same (here: unknown) address, fresh browsers, waiting out every delay: 25 failures.
            var wait = 0
            for _ in 0..<25 {
                clock.advance(by: TimeInterval(wait))
                let attacker = WebBrowser(client)
                _ = try await attacker.get("/login")
                let failed = try await attacker.post("/login", ["email": "alice@example.com", "password": Self.wrong])
                #expect(failed.status == .unauthorized)
                wait = failed.headers[.retryAfter].flatMap(Int.init) ?? 0
            }
            #expect(wait == 300)
            // Someone at a new browser has to wait...
            let stranger = WebBrowser(client)
            #expect(try await stranger.signIn(email: "alice@example.com", password: Self.right).status == .tooManyRequests)
            // ...the owner at the browser that signed in before does not.
            let back = try await owner.signIn(email: "alice@example.com", password: Self.right)
            #expect(back.status == .seeOther && back.location == "/connections")
            // A known browser is throttled on its own (a stolen cookie does not buy unlimited guesses).
            _ = try await owner.get("/connections")
            #expect(try await owner.post("/logout").location == "/login")
            _ = try await owner.get("/login")
            for _ in 0..<3 { _ = try await owner.post("/login", ["email": "alice@example.com", "password": Self.wrong]) }
            #expect(try await owner.post("/login", ["email": "alice@example.com", "password": Self.right]).status == .tooManyRequests)
        }
    }

    @Test func aProxyAddressSharedByEveryoneDoesNotLockOthersOut() async throws {
        let clock = TestClock()
        // No trusted proxies: every request comes from the proxy's (here: the test client's) address.
        try await TestApp.with(.sqlite, framework: .live, clock: clock) { client, fixture in
            try await TestUsers.create(fixture, email: "bob@example.com")
            for account in 0..<7 { try await TestUsers.create(fixture, email: "user\(account)@example.com") }
            let attacker = WebBrowser(client)
            _ = try await attacker.get("/login")
            for account in 0..<7 {
                for _ in 0..<3 {
                    let failed = try await attacker.post("/login", ["email": "user\(account)@example.com", "password": Self.wrong])
                    #expect(failed.status == .unauthorized)
                }
            }
            // 21 failures from the shared address; Bob, behind the same proxy, signs in at once.
            let bob = WebBrowser(client)
            let signedIn = try await bob.signIn(email: "bob@example.com", password: Self.right)
            #expect(signedIn.status == .seeOther && signedIn.location == "/connections")
            let events = try await fixture.auditEvents()
            let address = try #require(events.last?.ip)
            #expect(["127.0.0.1", "::1"].contains(address))
        }
    }

    @Test func forwardedForIsBelievedOnlyFromATrustedProxy() async throws {
        for trusted in [false, true] {
            let clock = TestClock()
            let configure: (inout ServerConfiguration) -> Void = { configuration in
                if trusted { configuration.trustedProxies = try! TrustedProxies(parsing: "127.0.0.0/8, ::1") }
            }
            try await TestApp.with(.sqlite, framework: .live, clock: clock, configure: configure) { client, fixture in
                try await TestUsers.create(fixture, email: "alice@example.com")
                let attacker = WebBrowser(client)
                _ = try await attacker.get("/login")
                // Each attempt claims another address; only a trusted proxy's word counts.
                var statuses: [HTTPResponse.Status] = []
                for octet in 1...5 {
                    await attacker.setHeader("X-Forwarded-For", "198.51.100.\(octet), 203.0.113.\(octet)")
                    statuses.append(try await attacker.post("/login", ["email": "alice@example.com", "password": Self.wrong]).status)
                }
                let events = try await Self.signInFailures(fixture)
                if trusted {
                    #expect(statuses == Array(repeating: .unauthorized, count: 5))
                    #expect(events.map(\.ip) == (1...5).map { "203.0.113.\($0)" })
                } else {
                    #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
                    #expect(events.allSatisfy { ["127.0.0.1", "::1"].contains($0.ip ?? "") })
                    #expect(events.filter { $0.details["reason"] == "throttled" }.count == 2)
                }
            }
        }
    }

    @Test func theClientAddressIsTheRightmostUntrustedOne() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 192.0.2.1, 2001:db8::/32")
        #expect(proxies.clientAddress(peer: "198.51.100.9", forwardedFor: ["1.2.3.4"], forwarded: []) == "198.51.100.9")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["1.2.3.4, 5.6.7.8, 10.9.9.9"], forwarded: []) == "5.6.7.8")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["1.2.3.4", "192.0.2.1"], forwarded: []) == "1.2.3.4")
        #expect(proxies.clientAddress(peer: "::ffff:10.1.2.3", forwardedFor: ["5.6.7.8"], forwarded: []) == "5.6.7.8")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["garbage, 10.2.2.2"], forwarded: []) == "10.2.2.2")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: [], forwarded: []) == "10.1.2.3")
        #expect(
            proxies.clientAddress(peer: "2001:db8::1", forwardedFor: [], forwarded: [#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#])
                == "192.0.2.60"
        )
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: [], forwarded: ["for=198.51.100.7:8080"]) == "198.51.100.7")
        #expect(TrustedProxies().clientAddress(peer: "10.1.2.3", forwardedFor: ["1.2.3.4"], forwarded: []) == "10.1.2.3")
        for bad in ["10.0.0.0/33", "not-an-ip", "10.0.0.0/x", "::1/129"] {
            #expect(throws: ConfigurationError.self) { try TrustedProxies(parsing: bad) }
        }
    }

    @Test func serverSettingsForTimeoutsAndProxiesAreReadFromTheEnvironment() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.idleTimeout == .seconds(10) && configuration.trustedProxies.isEmpty)
        try configuration.applyEnvironment(["LATCHKEY_IDLE_TIMEOUT": "2.5", "LATCHKEY_TRUSTED_PROXIES": "10.0.0.0/8,::1"])
        #expect(configuration.idleTimeout == .milliseconds(2500))
        #expect(configuration.trustedProxies.trusts("10.200.0.1") && configuration.trustedProxies.trusts("::1"))
        #expect(!configuration.trustedProxies.trusts("11.0.0.1"))
        for value in ["0", "-1", "soon", "4000"] {
            var other = ServerConfiguration()
            let error = #expect(throws: ConfigurationError.self) { try other.applyEnvironment(["LATCHKEY_IDLE_TIMEOUT": value]) }
            #expect(error?.description.contains("LATCHKEY_IDLE_TIMEOUT") == true)
        }
        var other = ServerConfiguration()
        let error = #expect(throws: ConfigurationError.self) { try other.applyEnvironment(["LATCHKEY_TRUSTED_PROXIES": "10.0.0.1, proxy.local"]) }
        #expect(error?.description.contains("proxy.local") == true)
    }
}
