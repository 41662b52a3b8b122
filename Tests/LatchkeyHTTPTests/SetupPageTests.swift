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
import NIOCore
import SQLKit
import Testing

@Suite("First-admin setup page")
struct SetupPageTests {
    static func form(_ fields: [String: String]) -> ByteBuffer {
        var components = URLComponents()
        components.queryItems = fields.map { URLQueryItem(name: $0.key, value: $0.value) }
        return ByteBuffer(string: components.percentEncodedQuery ?? "")
    }

    static func csrf(in page: String) throws -> String {
        let marker = #"name="csrf" value=""#
        guard let start = page.range(of: marker)?.upperBound, let end = page[start...].firstIndex(of: "\"") else {
            throw TestFailure("no csrf field on the page")
        }
        return String(page[start..<end])
    }

    @Test(arguments: TestDatabases.kinds)
    func theFirstAdminIsCreatedOnceWithTheOneTimeLink(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let token = try #require(try await fixture.runtime.tenants.issueSetupToken(tenantID: fixture.tenantID))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

            let noToken = try await client.execute(uri: "/setup", method: .get)
            #expect(noToken.status == .forbidden && noToken.headers[.contentType]?.hasPrefix("text/html") == true)
            let wrongToken = try await client.execute(uri: "/setup?token=nope", method: .get)
            #expect(wrongToken.status == .forbidden)

            let page = try await client.execute(uri: "/setup?token=\(token)", method: .get)
            #expect(page.status == .ok && page.text.contains("Create the first administrator"))
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            let csrf = try Self.csrf(in: page.text)

            var fields = ["email": "admin@example.com", "name": "Ada Admin", "password": "correct horse battery", "confirm": "correct horse battery"]
            let forged = try await client.execute(uri: "/setup?token=\(token)", method: .post, headers: headers, body: Self.form(fields))
            #expect(forged.status == .forbidden)

            fields["csrf"] = csrf
            var short = fields
            short["password"] = "short"
            short["confirm"] = "short"
            let tooShort = try await client.execute(uri: "/setup?token=\(token)", method: .post, headers: headers, body: Self.form(short))
            #expect(tooShort.status == .badRequest && tooShort.text.contains("at least 12 characters"))
            #expect(tooShort.text.contains("admin@example.com") && !tooShort.text.contains("value=\"short\""))

            let done = try await client.execute(uri: "/setup?token=\(token)", method: .post, headers: headers, body: Self.form(fields))
            #expect(done.status == .ok && done.text.contains("Administrator created"))
            // No dead end: a copy button for the key (our own script, allowed by the policy) and the way on.
            #expect(done.text.contains(#"data-copy="admin-key""#) && done.text.contains(#"<script src="/assets/console.js"></script>"#))
            #expect(done.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(done.text.contains(#"id="open-console" href="/login""#))
            let keyStart = try #require(done.text.range(of: "lk_live_"))
            let apiKey = String(done.text[keyStart.lowerBound...].prefix { $0 != "<" })
            let api = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Bearer \(apiKey)"])
            #expect(api.status == .ok)

            let again = try await client.execute(uri: "/setup?token=\(token)", method: .get)
            #expect(again.status == .notFound)
            #expect(again.text.contains("Setup is done") && again.text.contains(#"id="sign-in" href="/login""#))
            let replay = try await client.execute(uri: "/setup?token=\(token)", method: .post, headers: headers, body: Self.form(fields))
            #expect(replay.status == .notFound)
            #expect(try await fixture.runtime.tenants.users.adminExists(tenantID: fixture.tenantID))
            let audit = try await client.execute(uri: "/api/v1/audit?action=admin.setup", method: .get, headers: fixture.headers)
            #expect(try (audit.json["items"] as? [Any])?.count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aNewSetupLinkInvalidatesTheEarlierOnes(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let tenants = fixture.runtime.tenants
            let first = try #require(try await tenants.issueSetupToken(tenantID: fixture.tenantID))
            let second = try #require(try await tenants.issueSetupToken(tenantID: fixture.tenantID))
            let third = try #require(try await tenants.issueSetupToken(tenantID: fixture.tenantID))
            #expect(Set([first, second, third]).count == 3)
            for old in [first, second] {
                #expect(try await !tenants.setupTokenIsValid(old, tenantID: fixture.tenantID))
                let page = try await client.execute(uri: "/setup?token=\(old)", method: .get)
                #expect(page.status == .forbidden)
            }
            #expect(try await tenants.setupTokenIsValid(third, tenantID: fixture.tenantID))
            let page = try await client.execute(uri: "/setup?token=\(third)", method: .get)
            #expect(page.status == .ok && page.text.contains("Create the first administrator"))
            let live = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM setup_tokens").first()?.decode(column: "n", as: Int.self)
            }
            #expect(live == 1)
        }
    }

    @Test func pagesOutsideTheAPIAnswerHTML() async throws {
        try await TestApp.with(.sqlite) { client, _ in
            let missing = try await client.execute(uri: "/no/such/page", method: .get, headers: [.accept: "text/html"])
            #expect(missing.status == .notFound && missing.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(missing.text.contains("<h1") && missing.text.contains("Page not found"))
            // Plain words for a person; the API keeps the method and path for a developer.
            #expect(missing.text.contains("There is no page at this address") && !missing.text.contains("GET /no/such/page"))
            let api = try await client.execute(uri: "/api/v1/nope", method: .get)
            let apiError = try api.json["error"] as? [String: Any]
            #expect(api.status == .notFound && apiError?["message"] as? String == "There is nothing at GET /api/v1/nope.")
            let home = try await client.execute(uri: "/", method: .get)
            #expect(home.status == .ok && home.text.contains("Latchkey is running") && home.text.contains(#"href="/login""#))
            let script = try await client.execute(uri: "/assets/console.js", method: .get)
            #expect(script.status == .ok && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(script.text.contains("data-copy"))
        }
    }

    /// Signed in, the start page leads to the Connection Center and an error page keeps the navigation.
    @Test func signedInPagesAreNoDeadEnds() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "alice@example.com", password: "correct-horse-battery")
            let home = try await browser.get("/")
            #expect(home.status == .seeOther && home.location == "/connections")
            let missing = try await browser.get("/no/such/page")
            #expect(missing.status == .notFound && missing.text.contains("Page not found"))
            #expect(missing.text.contains(#"<nav aria-label="Main">"#) && missing.text.contains(#"id="sign-out""#))
            // Signed out, the same page has no navigation to offer.
            let stranger = try await client.execute(uri: "/no/such/page", method: .get, headers: [.accept: "text/html"])
            #expect(!stranger.text.contains(#"id="sign-out""#))
        }
    }
}
