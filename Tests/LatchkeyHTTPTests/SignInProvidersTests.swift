import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Which integrations sign people in: the admin API and the admin page, with a clear 4xx for every integration that
/// cannot.
@Suite("Sign-in providers")
struct SignInProvidersTests {
    @Test(arguments: TestDatabases.kinds)
    func theAPISetsListsAndRemovesAProvider(kind: TestDatabases.Kind) async throws {
        try await SingleSignOnWorld.with(kind) { world in
            let client = world.client
            let headers = world.fixture.headers
            let empty = try await client.execute(uri: "/api/v1/sign-in/providers", method: .get, headers: headers)
            #expect(empty.status == .ok)
            #expect((try empty.json["providers"] as? [Any])?.isEmpty == true)
            #expect(try empty.json["redirectURI"] as? String == world.fixture.runtime.configuration.effectivePublicURL + "/login/sso/callback")
            let put = try await client.execute(
                uri: "/api/v1/sign-in/providers/corp",
                method: .put,
                headers: headers,
                body: try body(["enabled": true, "createUsers": true, "allowedDomains": ["Example.com", "@corp.example"]])
            )
            #expect(put.status == .ok)
            #expect(try put.json["kind"] as? String == "oidc")
            #expect(try put.json["allowedDomains"] as? [String] == ["example.com", "corp.example"])
            let listed = try await client.execute(uri: "/api/v1/sign-in/providers", method: .get, headers: headers)
            let providers = try #require(try listed.json["providers"] as? [[String: Any]])
            #expect(providers.map { $0["integrationKey"] as? String } == ["corp"])
            #expect(providers.first?["createUsers"] as? Bool == true)
            let deleted = try await client.execute(uri: "/api/v1/sign-in/providers/corp", method: .delete, headers: headers)
            #expect(deleted.status == .noContent)
            let again = try await client.execute(uri: "/api/v1/sign-in/providers/corp", method: .delete, headers: headers)
            #expect(again.status == .notFound)
            let actions = try await world.fixture.auditEvents().map(\.action)
            #expect(actions.filter { $0.hasPrefix("sign_in_provider.") } == ["sign_in_provider.update", "sign_in_provider.delete"])
        }
    }

    @Test func integrationsThatCannotSignPeopleInAreRefusedInPlainWords() async throws {
        try await SingleSignOnWorld.with { world in
            let runtime = world.fixture.runtime
            // An OAuth provider without a user-info endpoint, and a turned-off integration.
            _ = try await runtime.integrations.create(
                .init(
                    key: "blind",
                    provider: "oauth2",
                    clientID: "c",
                    settings: ["authorizationURL": "https://blind.example/authorize", "tokenURL": "https://blind.example/token"]
                ),
                tenantID: world.fixture.tenantID,
                actor: .cli
            )
            _ = try await runtime.integrations.create(
                .init(
                    key: "off",
                    provider: "oauth2",
                    clientID: "c",
                    enabled: false,
                    settings: [
                        "authorizationURL": "https://off.example/authorize", "tokenURL": "https://off.example/token",
                        "userInfoURL": "https://off.example/user",
                    ]
                ),
                tenantID: world.fixture.tenantID,
                actor: .cli
            )
            for (key, status, words) in [
                ("blind", HTTPResponse.Status.badRequest, "no user-info endpoint"), ("off", .conflict, "is turned off"),
                ("nowhere", .notFound, "There is no integration"),
            ] {
                let response = try await world.client.execute(
                    uri: "/api/v1/sign-in/providers/\(key)",
                    method: .put,
                    headers: world.fixture.headers,
                    body: try body(["enabled": true])
                )
                #expect(response.status == status, "\(key)")
                #expect(response.text.contains(words), "\(key): \(response.text)")
            }
            let badDomain = try await world.client.execute(
                uri: "/api/v1/sign-in/providers/corp",
                method: .put,
                headers: world.fixture.headers,
                body: try body(["enabled": true, "allowedDomains": ["*.example.com"]])
            )
            #expect(badDomain.status == .badRequest)
            #expect(badDomain.errorFields == ["allowedDomains"])
            let unknownField = try await world.client.execute(
                uri: "/api/v1/sign-in/providers/corp",
                method: .put,
                headers: world.fixture.headers,
                body: try body(["enabled": true, "autoLink": true])
            )
            #expect(unknownField.status == .badRequest)
        }
    }

    @Test func theAdminPageTurnsSignInOnAndKeepsWhatWasTyped() async throws {
        try await SingleSignOnWorld.with { world in
            try await TestUsers.create(world.fixture, email: "admin@example.com", admin: true)
            let browser = WebBrowser(world.client)
            _ = try await browser.signIn(email: "admin@example.com", password: "correct-horse-battery")
            let page = try await browser.get("/admin/sign-in")
            #expect(page.status == .ok)
            #expect(page.text.contains(world.fixture.runtime.configuration.effectivePublicURL + "/login/sso/callback"))
            #expect(page.text.contains(#"action="/admin/sign-in/corp""#) && page.text.contains(#"action="/admin/sign-in/hub""#))
            let wrong = try await browser.post(
                "/admin/sign-in/corp",
                ["enabled-corp": "1", "createUsers-corp": "1", "domains": "example.com not_a_domain"]
            )
            #expect(wrong.status == .badRequest)
            #expect(wrong.text.contains(#"value="example.com not_a_domain""#))
            #expect(wrong.text.contains(#"aria-invalid="true" aria-describedby="domains-corp-error""#))
            let saved = try await browser.post("/admin/sign-in/corp", ["enabled-corp": "1", "createUsers-corp": "1", "domains": "example.com"])
            #expect(saved.status == .seeOther)
            let after = try await browser.get("/admin/sign-in")
            #expect(after.text.contains("People can now sign in with Corp ID."))
            let settings = try await SignInProviderRepository(database: world.fixture.runtime.database).settings(
                integrationKey: "corp",
                tenantID: world.fixture.tenantID
            )
            #expect(settings?.enabled == true && settings?.createUsers == true && settings?.allowedDomains == ["example.com"])
            #expect(try await world.fixture.auditEvents().contains { $0.action == "sign_in_provider.update" && $0.actor.hasPrefix("user:") })
            // Members do not see the page.
            try await TestUsers.create(world.fixture, email: "member@example.com")
            let member = WebBrowser(world.client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            #expect(try await member.get("/admin/sign-in").status == .forbidden)
        }
    }
}
