import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

@Suite("Integrations API")
struct IntegrationsAPITests {
    @Test(arguments: TestDatabases.kinds)
    func createShowChangeAndDelete(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "github", "clientId": "Iv1.abc", "clientSecret": "api-secret-value", "scopes": ["repo"]])
            )
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/api/v1/integrations/github")
            let json = try created.json
            #expect(json["key"] as? String == "github")
            #expect(json["displayName"] as? String == "GitHub")
            #expect(json["hasClientSecret"] as? Bool == true)
            #expect(json["redirectUri"] as? String == fixture.runtime.configuration.callbackURL)
            #expect(!created.text.contains("api-secret-value"))
            // The secret is encrypted at rest.
            let raw = try await fixture.runtime.integrations.integrations.sealedClientSecret(
                id: try #require(try await fixture.runtime.integrations.integrations.find(key: "github", tenantID: fixture.tenantID)).id,
                tenantID: fixture.tenantID
            )
            #expect(raw != nil && !String(decoding: raw!, as: UTF8.self).contains("api-secret-value"))
            // Same key again: 409.
            let again = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "github", "clientId": "x"])
            )
            #expect(again.status == .conflict)
            // PATCH: disable, change scopes, remove the secret.
            let patched = try await client.execute(
                uri: "/api/v1/integrations/github",
                method: .patch,
                headers: fixture.headers,
                body: try body(["enabled": false, "scopes": ["repo", "gist"], "clientSecret": NSNull()])
            )
            #expect(patched.status == .ok)
            #expect(try patched.json["enabled"] as? Bool == false)
            #expect(try patched.json["hasClientSecret"] as? Bool == false)
            let list = try await client.execute(uri: "/api/v1/integrations", method: .get, headers: fixture.headers)
            #expect((try list.json["items"] as? [[String: Any]])?.count == 1)
            // Delete is refused while accounts hang under it.
            _ = try await fixture.runtime.vault.create(
                .init(integration: "github", externalUserID: "alice", type: .oauth2, secret: .init(accessToken: "t")),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            #expect(try await client.execute(uri: "/api/v1/integrations/github", method: .delete, headers: fixture.headers).status == .conflict)
            let other = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "openai"])
            )
            #expect(other.status == .created)
            #expect(try await client.execute(uri: "/api/v1/integrations/openai", method: .delete, headers: fixture.headers).status == .noContent)
            #expect(try await client.execute(uri: "/api/v1/integrations/openai", method: .get, headers: fixture.headers).status == .notFound)
            // Audited with a fingerprint, never the secret.
            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "integration.create" && $0.details["client_secret_fp"]?.hasPrefix("fp_") == true })
            #expect(events.contains { $0.action == "integration.delete" && $0.target == "openai" })
            #expect(!fixture.logs.text.contains("api-secret-value"))
        }
    }

    @Test func badInputIsExplainedFieldByField() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            func post(_ object: [String: Any]) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/integrations", method: .post, headers: fixture.headers, body: try body(object))
            }
            let unknown = try await post(["provider": "nosuch"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorFields == ["provider"])
            let noClient = try await post(["provider": "github"])
            #expect(noClient.errorFields.contains("clientId"))
            let apiKeyWithClient = try await post(["provider": "openai", "clientId": "x", "scopes": ["a"]])
            #expect(apiKeyWithClient.errorFields.contains("clientId"))
            #expect(apiKeyWithClient.errorFields.contains("scopes"))
            let badKey = try await post(["provider": "github", "key": "Not OK", "clientId": "x"])
            #expect(badKey.errorFields.contains("key"))
            // "new" is the console's page for a new integration, not a key.
            let reserved = try await post(["provider": "github", "key": "new", "clientId": "x"])
            #expect(reserved.status == .badRequest && reserved.errorFields.contains("key"))
            let missingSettings = try await post(["provider": "oauth2", "clientId": "x"])
            #expect(missingSettings.errorFields.contains("settings.authorizationURL"))
            #expect(missingSettings.errorFields.contains("settings.tokenURL"))
            let httpURL = try await post([
                "provider": "oauth2", "clientId": "x",
                "settings": ["authorizationURL": "http://id.example/a", "tokenURL": "https://id.example/t"],
            ])
            #expect(httpURL.errorFields == ["settings.authorizationURL"])
            let unknownSetting = try await post(["provider": "github", "clientId": "x", "settings": ["tokenURL": "https://evil.example"]])
            #expect(unknownSetting.errorFields == ["settings.tokenURL"])
            let unknownField = try await post(["provider": "github", "clientId": "x", "secret": "oops"])
            #expect(unknownField.status == .badRequest)
            let providers = try await client.execute(uri: "/api/v1/providers", method: .get, headers: fixture.headers)
            let items = try #require(try providers.json["items"] as? [[String: Any]])
            #expect(items.count >= 30)
            #expect(items.contains { $0["id"] as? String == "slack" && ($0["scopes"] as? [[String: Any]])?.isEmpty == false })
            #expect(try await client.execute(uri: "/api/v1/providers?authMode=nope", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).isEmpty)
        }
    }

    @Test func oidcIntegrationsReadTheDiscoveryDocument() async throws {
        let discovery = DiscoveryServer()
        try await TestApp.with(.sqlite, transport: discovery) { client, fixture in
            let created = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "provider": "oidc", "key": "corp", "displayName": "Corp SSO", "clientId": "c", "clientSecret": "s",
                    "scopes": ["openid", "email"], "settings": ["discoveryURL": "https://id.example/.well-known/openid-configuration"],
                ])
            )
            #expect(created.status == .created)
            let settings = try #require(try created.json["settings"] as? [String: String])
            #expect(settings["tokenURL"] == "https://id.example/token")
            #expect(settings["issuer"] == "https://id.example")
            #expect(try created.json["displayName"] as? String == "Corp SSO")
            let broken = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "provider": "oidc", "key": "broken", "clientId": "c",
                    "settings": ["discoveryURL": "https://down.example/.well-known/openid-configuration"],
                ])
            )
            #expect(broken.status == .badRequest)
            #expect(broken.errorFields == ["settings.discoveryURL"])
        }
    }
}

/// Serves one OpenID Connect discovery document; every other host is unreachable.
struct DiscoveryServer: HTTPTransport {
    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        guard request.url.host == "id.example" else { throw OutboundError.unreachable(host: request.url.host ?? "") }
        let document = """
            {"issuer": "https://id.example", "authorization_endpoint": "https://id.example/authorize", "token_endpoint": "https://id.example/token",
             "userinfo_endpoint": "https://id.example/userinfo", "revocation_endpoint": "https://id.example/revoke"}
            """
        return OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "application/json")], body: Data(document.utf8))
    }
}
