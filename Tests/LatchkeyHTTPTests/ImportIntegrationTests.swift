import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Importing a credential for an integration nobody set up (the README's own example) must not offer everyone a
/// Connect button that cannot work.
@Suite("Import for an integration that is not set up")
struct ImportIntegrationTests {
    /// An expired imported token of an integration without an OAuth client cannot be refreshed: retrying will not
    /// help, so the answer is 409 with the next step, not 503.
    @Test func anExpiredTokenOfAnIntegrationWithoutAClientIsAConflictNotAnOutage() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let imported: [String: Any] = [
                "integration": "github", "externalUserId": "alice", "type": "oauth2", "accessToken": "gho_x", "refreshToken": "ghr_x",
                "expiresAt": "2001-01-01T00:00:00Z", "scopes": ["repo"],
            ]
            let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(imported))
            #expect(created.status == .created)
            let token = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "github", "externalUserId": "alice"])
            )
            #expect(token.status == .conflict)
            #expect(token.errorCode == "conflict")
            let message = try #require(try token.json["error"] as? [String: Any])["message"] as? String
            #expect(message?.contains("no OAuth client configured") == true)
            #expect(message?.contains("PATCH /api/v1/integrations/github") == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theIntegrationIsCreatedDisabledAndTheAnswerSaysSo(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let readme: [String: Any] = [
                "integration": "github", "externalUserId": "alice", "type": "oauth2", "accessToken": "gho_x", "refreshToken": "ghr_x",
                "expiresAt": "2030-01-01T00:00:00Z", "scopes": ["repo"],
            ]
            let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(readme))
            #expect(created.status == .created)
            let notice = try #require(try created.json["notice"] as? String)
            #expect(notice.contains("was not set up, so it was created disabled") && notice.contains("PATCH /api/v1/integrations/github"))

            let integration = try await client.execute(uri: "/api/v1/integrations/github", method: .get, headers: fixture.headers)
            #expect(try integration.json["enabled"] as? Bool == false)

            // The credential works for the API.
            let token = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "github", "externalUserId": "alice"])
            )
            #expect(token.status == .ok)
            #expect(try token.json["accessToken"] as? String == "gho_x")

            // A second import says nothing more; nobody is offered a GitHub tile.
            var again = readme
            again["externalUserId"] = "bob"
            let second = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(again))
            #expect(second.status == .created)
            #expect(try second.json["notice"] == nil)
            try await TestUsers.create(fixture, email: "carol@example.com")
            let browser = WebBrowser(client)
            _ = try await browser.signIn(email: "carol@example.com", password: "correct-horse-battery")
            let center = try await browser.get("/connections")
            #expect(center.status == .ok && !center.text.contains("/connections/github/connect"))
        }
    }
}
