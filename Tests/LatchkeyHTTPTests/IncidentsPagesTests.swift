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

/// `/admin/incidents` through the router: the dry run is shown first, a wrong phrase revokes nothing (400), the
/// right one runs and leads to the run's page; members are refused. The browser flow: Tests/e2e/test_incidents.py.
@Suite("Incidents pages")
struct IncidentsPagesTests {
    @Test(arguments: TestDatabases.kinds)
    func anAdministratorRevokesAfterSeeingTheCountsAndTypingThePhrase(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "github", provider: "github", clientID: "gh-client", clientSecret: "gh-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            for user in ["alice", "bob"] {
                let created = try await client.execute(
                    uri: "/api/v1/credentials",
                    method: .post,
                    headers: fixture.headers,
                    body: try body(["integration": "github", "externalUserId": user, "type": "oauth2", "accessToken": "gho_\(user)_secret"])
                )
                #expect(created.status == .created)
            }
            try await TestUsers.create(fixture, email: "member@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            #expect(try await member.get("/admin/incidents").status == .forbidden)

            try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "admin@example.com", password: "correct-horse-battery")
            let page = try await browser.get("/admin/incidents")
            #expect(page.status == .ok && page.text.contains(#"<option value="github">github</option>"#))

            let preview = try await browser.post("/admin/incidents/revoke/preview", ["scope": "integration", "integration": "github", "app": "x"])
            #expect(preview.status == .ok && preview.text.contains("<strong>2</strong> credentials"))
            #expect(preview.text.contains(#"<code id="phrase">github</code>"#))
            let wrong = try await browser.post("/admin/incidents/revoke", ["scope": "integration", "integration": "github", "confirm": "GitHub"])
            #expect(wrong.status == .badRequest && wrong.text.contains("Nothing was revoked"))
            #expect(try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init()).items.count == 2)
            let unknown = try await browser.post("/admin/incidents/revoke/preview", ["scope": "integration", "integration": "nope"])
            #expect(unknown.status == .badRequest && unknown.text.contains("Integration is not an integration of this tenant."))

            let run = try await browser.post("/admin/incidents/revoke", ["scope": "integration", "integration": "github", "confirm": "github"])
            #expect(run.status == .seeOther)
            let location = try #require(run.location)
            #expect(location.hasPrefix("/admin/incidents/jobs/"))
            let result = try await browser.get(location)
            #expect(result.text.contains(#"<span id="job-status">done</span>"#) && result.text.contains(#"<dd id="job-processed">2 of 2</dd>"#))
            #expect(try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init()).items.isEmpty)
            #expect(!result.text.contains("gho_alice_secret"))
            #expect(try await browser.get("/admin/incidents").text.contains(#"class="incident-job""#))
        }
    }
}
