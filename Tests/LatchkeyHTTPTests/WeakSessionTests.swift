import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// A session an app vouched for (WEAK) looks but changes nothing a person's accounts hang on: it cannot disconnect a
/// service or grant an MCP client, each post is sent to sign in fully first (connecting, linking and unlinking have
/// their tests beside their features).
@Suite("WEAK sessions")
struct WeakSessionTests {
    @Test(arguments: TestDatabases.kinds)
    func aWeakSessionCannotDisconnectAServiceOrGrantAnMCPClient(kind: TestDatabases.Kind) async throws {
        try await OAuthServerTests.withAlice(kind) { _, fixture, client, alice in
            let listed = try await client.execute(uri: "/api/v1/credentials?externalUserId=\(alice.id)", method: .get, headers: fixture.headers)
            let credentialID = try #require((try listed.json["items"] as? [[String: Any]])?.first?["id"] as? String)
            let sessions = WebSessions(store: fixture.runtime.webSessionStore, keyring: fixture.runtime.keyring, clock: fixture.runtime.clock)
            let weak = WebBrowser(client)
            await weak.setCookie("latchkey_session", try await sessions.create(user: alice, method: .app, ip: nil, userAgent: nil))

            // Disconnecting: the confirmation page may be read, the post is sent to sign in and the account stays.
            #expect(try await weak.get("/connections/\(credentialID)/disconnect").status == .ok)
            await weak.setHeader("Referer", "http://localhost/connections")
            let disconnect = try await weak.post("/connections/\(credentialID)/disconnect")
            #expect(disconnect.status == .seeOther && disconnect.location == "/login?next=/connections")
            let still = try await client.execute(uri: "/api/v1/credentials/\(credentialID)", method: .get, headers: fixture.headers)
            #expect(still.status == .ok, "\(still.text)")

            // Granting an MCP client: the consent page shows, approving it issues no code and records no grant.
            let registered = try await OAuthServerTests.register(
                client,
                ["redirect_uris": [OAuthServerTests.redirect], "token_endpoint_auth_method": "none"]
            )
            let clientID = try #require(try registered.json["client_id"] as? String)
            let authorize = OAuthServerTests.authorizeURI(clientID: clientID)
            #expect(try await weak.get(authorize).status == .ok)
            var fields = OAuthServerTests.query("?" + (URLComponents(string: authorize)?.percentEncodedQuery ?? ""))
            fields["service.sandbox"] = "on"
            fields["decision"] = "approve"
            await weak.setHeader("Referer", "http://localhost" + authorize)
            let approved = try await weak.post("/oauth/authorize", fields)
            #expect(approved.status == .seeOther)
            #expect(approved.location?.hasPrefix("/login?next=") == true, "\(approved.location ?? "")")
            #expect(OAuthServerTests.query(approved.location)["code"] == nil)
            let events = try await fixture.auditEvents()
            #expect(!events.contains { $0.action == "oauth.consent" || $0.action == "credential.delete" })
        }
    }
}
