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

/// The console's Integrations pages: adding a service with only the fields it needs, its problems in plain words,
/// editing it, and what the list shows.
@Suite("Admin integrations pages")
struct AdminIntegrationsPagesTests {
    /// The text of the element that starts at the first match of `marker` up to `end`, tags removed.
    static func text(in html: String, from marker: String, to end: String) -> String? {
        guard let start = html.range(of: marker), let stop = html.range(of: end, range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.upperBound..<stop.lowerBound]).replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
    }

    static func summary(_ html: String) -> String? { text(in: html, from: #"role="alert" id="form-problems">"#, to: "</div>") }

    static func fieldProblem(_ html: String, _ field: String) -> String? { text(in: html, from: #"id="\#(field)-error">"#, to: "</p>") }

    @Test(arguments: TestDatabases.kinds)
    func theAddFormKeepsWhatWasTypedAndSaysWhatIsWrongBesideEachField(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            _ = try await admin.get("/admin/integrations")
            let typed = [
                "provider": "github", "key": "Work GitHub", "clientId": "Iv1.typed-client", "clientSecret": "typed-secret-value",
                "scopes": "repo nonsense",
            ]
            let bad = try await admin.post("/admin/integrations", typed)
            #expect(bad.status == .badRequest)
            // What was typed is there again, except the secret.
            #expect(bad.text.contains(#"value="Work GitHub""#) && bad.text.contains(#"value="Iv1.typed-client""#))
            #expect(bad.text.contains(#"value="repo nonsense""#) && bad.text.contains(#"name="provider" value="github""#))
            #expect(!bad.text.contains("typed-secret-value"))
            // Each problem beside its field, and a summary that is announced.
            #expect(bad.text.contains(#"aria-invalid="true" aria-describedby="key-error""#))
            #expect(try #require(Self.fieldProblem(bad.text, "key")).contains("lowercase letters, digits, dashes or underscores"))
            let scopes = try #require(Self.fieldProblem(bad.text, "scopes"))
            #expect(scopes.contains("GitHub has no scope called “nonsense”"))
            #expect(scopes.contains("gist, public_repo, read:org, read:user, repo, user:email, workflow"))
            #expect(try #require(Self.fieldProblem(bad.text, "clientSecret")).contains("Enter the client secret again"))
            let summary = try #require(Self.summary(bad.text))
            #expect(summary.contains("lowercase letters") && summary.contains("nonsense"))
            // Plain words: none of the API's names or routes.
            for apiWord in ["scopes[", "clientId", "GET /api", "key must be"] { #expect(!summary.contains(apiWord), "\(apiWord)") }
            #expect(try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).isEmpty)

            let noClient = try await admin.post("/admin/integrations", ["provider": "github"])
            #expect(noClient.status == .badRequest)
            #expect(try #require(Self.fieldProblem(noClient.text, "clientId")).contains("Enter the client ID of the OAuth app registered at GitHub"))

            var fixed = typed
            fixed["key"] = "work-github"
            fixed["scopes"] = "repo read:user"
            let added = try await admin.post("/admin/integrations", fixed)
            #expect(added.status == .seeOther)
            let stored = try #require(try await fixture.runtime.integrations.integrations.find(key: "work-github", tenantID: fixture.tenantID))
            #expect(stored.scopes == ["repo", "read:user"] && stored.clientID == "Iv1.typed-client")
            #expect(try await fixture.runtime.integrations.clientSecret(of: stored) == "typed-secret-value")
            // Taken key: said beside the key.
            _ = try await admin.get("/admin/integrations")
            let taken = try await admin.post("/admin/integrations", fixed)
            #expect(taken.status == .badRequest && Self.fieldProblem(taken.text, "key")?.contains("already exists") == true)
        }
    }

    /// Each field says only its own things: one field takes the focus, only a secret is a new password, and an address
    /// field asks for no autofill.
    @Test func eachFieldCarriesOnlyItsOwnAttributes() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let form = try await admin.get("/admin/integrations/new?provider=oauth2")
            #expect(form.status == .ok)
            #expect(form.text.components(separatedBy: " autofocus").count == 2, "exactly one field takes the focus")
            // The catalog's notes are for its developers; the page says what the integration does for people.
            let github = try await admin.get("/admin/integrations/new?provider=github")
            #expect(github.text.contains("People sign in at GitHub and choose what to allow"))
            #expect(!github.text.contains("revocationStyle") && !github.text.contains("form-encoded"))
            // An address field names no autofill token: nothing a browser keeps fits, and accessibility checkers
            // (axe-core 3.1) refuse "off" on a URL field.
            #expect(form.text.contains(#"id="setting-tokenURL" name="setting-tokenURL" type="url" value"#))
            #expect(form.text.contains(#"type="password" autocomplete="new-password""#))
            // The edit page of a service with address settings and a stored secret.
            try await TestIntegrations.sandbox(fixture)
            let edit = try await admin.get("/admin/integrations/sandbox")
            #expect(edit.status == .ok && edit.text.contains(#"id="setting-tokenURL""#))
            #expect(edit.text.contains(#"id="setting-tokenURL" name="setting-tokenURL" type="url" value"#))
            #expect(!edit.text.contains(#"type="text" autocomplete="new-password""#))
            // A page to read first: nothing takes the focus (it would scroll the page past its top).
            #expect(!edit.text.contains(" autofocus"))
            // After a mistake, the first field with a problem takes it.
            let mistake = try await admin.post("/admin/integrations/sandbox", ["setting-tokenURL": "not a url", "clientId": "latchkey-sandbox"])
            #expect(mistake.status == .badRequest)
            #expect(mistake.text.components(separatedBy: " autofocus").count == 2)
            let focused = try #require(mistake.text.components(separatedBy: "<input").first { $0.contains(" autofocus") })
            #expect(focused.contains(#"aria-invalid="true""#))
        }
    }

    @Test func theServiceIsChosenFirstAndItsFormAsksOnlyForWhatItNeeds() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            // The list chooses with a plain GET form: no script needed.
            let list = try await admin.get("/admin/integrations")
            #expect(list.text.contains(#"<form method="get" action="/admin/integrations/new""#))
            #expect(list.text.contains(#"<option value="oauth2">Generic OAuth 2.0</option>"#))

            // Generic OAuth 2.0: its endpoints, how to register the app, the exact redirect URI with a copy button.
            let generic = try await admin.get("/admin/integrations/new?provider=oauth2")
            #expect(generic.status == .ok)
            for field in ["clientId", "clientSecret", "scopes", "setting-authorizationURL", "setting-tokenURL", "setting-userInfoURL"] {
                #expect(generic.text.contains(#"id="\#(field)""#), "\(field)")
            }
            #expect(!generic.text.contains("setting-discoveryURL"))
            let callback = fixture.runtime.configuration.callbackURL
            #expect(callback.hasSuffix("/connect/callback") && generic.text.contains(#"id="redirect-uri">\#(callback)</p>"#))
            #expect(generic.text.contains(#"data-copy="redirect-uri""#) && generic.text.contains(#"<script src="/assets/console.js">"#))
            #expect(generic.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(generic.text.contains(#"href="https://datatracker.ietf.org/doc/html/rfc6749""#))
            #expect(generic.text.contains(#"id="key""#) && generic.text.contains("autofocus"))

            // OpenID Connect: a discovery URL, not the endpoints.
            let oidc = try await admin.get("/admin/integrations/new?provider=oidc")
            #expect(oidc.text.contains(#"id="setting-discoveryURL""#) && !oidc.text.contains("setting-authorizationURL"))

            // An API-key service: none of the OAuth fields, no redirect URI.
            let openai = try await admin.get("/admin/integrations/new?provider=openai")
            #expect(openai.status == .ok && openai.text.contains("Add OpenAI"))
            for field in ["clientId", "clientSecret", "scopes", "redirect-uri", "setting-"] {
                #expect(!openai.text.contains(#"id="\#(field)"#), "\(field)")
            }
            // A catalog service: its documentation and the scopes it knows.
            let github = try await admin.get("/admin/integrations/new?provider=github")
            #expect(github.text.contains(#"href="https://docs.github.com/en/rest""#) && github.text.contains("<code>read:org</code>"))
            #expect(try await admin.get("/admin/integrations/new?provider=nope").status == .badRequest)
            #expect(try await admin.get("/admin/integrations/new").status == .ok)

            // A missing endpoint is said beside it, in the form's words; what was typed stays.
            let missing = try await admin.post(
                "/admin/integrations",
                ["provider": "oauth2", "key": "corp", "clientId": "corp-client", "setting-authorizationURL": "https://id.example/authorize"]
            )
            #expect(missing.status == .badRequest)
            #expect(missing.text.contains(#"value="https://id.example/authorize""#))
            let problem = try #require(Self.fieldProblem(missing.text, "setting-tokenURL"))
            #expect(problem == "Enter the token URL: where codes and refresh tokens are exchanged.")
            let added = try await admin.post(
                "/admin/integrations",
                [
                    "provider": "oauth2", "key": "corp", "clientId": "corp-client", "setting-authorizationURL": "https://id.example/authorize",
                    "setting-tokenURL": "https://id.example/token", "setting-userInfoURL": "",
                ]
            )
            #expect(added.status == .seeOther)
            let stored = try #require(try await fixture.runtime.integrations.integrations.find(key: "corp", tenantID: fixture.tenantID))
            #expect(stored.settings == ["authorizationURL": "https://id.example/authorize", "tokenURL": "https://id.example/token"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theEditPageChangesOnlyWhatChangedAndNeverShowsTheSecret(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let store = fixture.runtime.integrations
            _ = try await store.create(
                .init(key: "github", provider: "github", clientID: "Iv1.old", clientSecret: "old-secret-value", scopes: ["repo"]),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let admin = try await AppsPagesTests.admin(client, fixture)
            let page = try await admin.get("/admin/integrations/github")
            #expect(page.status == .ok && page.text.contains(#"value="Iv1.old""#) && page.text.contains(#"value="repo""#))
            #expect(page.text.contains("A client secret is stored") && page.text.contains("Replace the client secret"))
            #expect(!page.text.contains("old-secret") && !page.text.contains("-value"))
            #expect(page.text.contains(#"<option value="enabled" selected>"#) && page.text.contains(#"data-copy="redirect-uri""#))
            let unchanged = ["displayName": "", "clientId": "Iv1.old", "clientSecret": "", "scopes": "repo", "status": "enabled"]
            #expect(
                try await admin.post("/admin/integrations/github", unchanged.merging(["status": "disabled"]) { $1 }, csrf: false).status == .forbidden
            )

            // Disabling with the secret field empty: only `enabled` changes, the secret is kept.
            var disable = unchanged
            disable["status"] = "disabled"
            let disabled = try await admin.post("/admin/integrations/github", disable)
            #expect(disabled.status == .seeOther && disabled.location == "/admin/integrations/github")
            var stored = try #require(try await store.integrations.find(key: "github", tenantID: fixture.tenantID))
            #expect(!stored.enabled && stored.clientID == "Iv1.old" && stored.scopes == ["repo"])
            #expect(try await store.clientSecret(of: stored) == "old-secret-value")
            let after = try await admin.get("/admin/integrations/github")
            #expect(after.text.contains("Saved the changes to GitHub, which is disabled.") && after.text.contains(#"id="disabled-badge""#))

            // A mistake: said beside the field, nothing saved, the new secret not shown back.
            var wrong = unchanged
            wrong["status"] = "disabled"
            wrong["clientSecret"] = "new-secret-value"
            wrong["scopes"] = "repo nonsense"
            let refused = try await admin.post("/admin/integrations/github", wrong)
            #expect(refused.status == .badRequest && !refused.text.contains("new-secret-value"))
            #expect(Self.fieldProblem(refused.text, "scopes")?.contains("GitHub has no scope called “nonsense”") == true)
            #expect(refused.text.contains(#"value="repo nonsense""#) && Self.summary(refused.text) != nil)
            var noClient = wrong
            noClient["scopes"] = "repo"
            noClient["clientId"] = ""
            let removed = try await admin.post("/admin/integrations/github", noClient)
            #expect(Self.fieldProblem(removed.text, "clientId")?.contains("Enter the client ID") == true)
            #expect(
                try await store.clientSecret(of: try #require(try await store.integrations.find(key: "github", tenantID: fixture.tenantID)))
                    == "old-secret-value"
            )

            // Corrected: the secret is replaced, the scopes change, and the audit event names those fields only.
            wrong["scopes"] = "repo gist"
            wrong["displayName"] = "Work GitHub"
            #expect(try await admin.post("/admin/integrations/github", wrong).status == .seeOther)
            stored = try #require(try await store.integrations.find(key: "github", tenantID: fixture.tenantID))
            #expect(stored.scopes == ["repo", "gist"] && stored.displayName == "Work GitHub" && !stored.enabled)
            #expect(try await store.clientSecret(of: stored) == "new-secret-value")
            _ = try await admin.get("/admin/integrations/github")
            #expect(try await admin.post("/admin/integrations/github", wrong.merging(["clientSecret": ""]) { $1 }).status == .seeOther)
            #expect(try await admin.get("/admin/integrations/github").text.contains("Nothing changed."))

            let events = try await fixture.auditEvents()
                .filter { $0.action == "integration.update" && $0.target == "github" }
            #expect(events.count == 2 && events.allSatisfy { $0.actor.hasPrefix("user:") })
            #expect(events.map { $0.details["fields"] ?? "" } == ["enabled", "displayName,clientSecret,scopes"])
            #expect(!events.contains { $0.details.values.contains("new-secret-value") })

            // Members cannot open it.
            try await TestUsers.create(fixture, email: "member@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            #expect(try await member.get("/admin/integrations/github").status == .forbidden)
            #expect(try await member.post("/admin/integrations/github", unchanged).status == .forbidden)
            #expect(try await admin.get("/admin/integrations/nothing-here").status == .notFound)
        }
    }

    /// People connected and the calls of the last 24 hours, from the request log shared by every instance.
    @Test(arguments: TestDatabases.kinds)
    func theEditPageShowsWhoIsConnectedAndTheSuccessRateOfTheLastDay(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            _ = try await fixture.runtime.integrations.create(.init(key: "openai", provider: "openai"), tenantID: fixture.tenantID, actor: .cli)
            for owner in ["alice", "bob", nil] {
                var credential: [String: Any] = ["integration": "openai", "type": "api_key", "apiKey": "sk-\(owner ?? "shared")"]
                credential["externalUserId"] = owner
                let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(credential))
                #expect(created.status == .created)
            }
            let admin = try await AppsPagesTests.admin(client, fixture)
            let quiet = try await admin.get("/admin/integrations/openai")
            #expect(Self.text(in: quiet.text, from: #"id="usage-connected">"#, to: "</dd>") == "2 people (3 accounts)")
            #expect(Self.text(in: quiet.text, from: #"id="usage-calls">"#, to: "</dd>") == "No calls")
            #expect(!quiet.text.contains(#"id="clientId""#) && !quiet.text.contains("redirect-uri"))

            let now = fixture.runtime.clock.now
            func entry(_ status: Int, hoursAgo: Double, key: String = "openai", kind: RequestKind = .proxy) -> RequestLogEntry {
                RequestLogEntry(
                    id: UUID().uuidString,
                    tenantID: fixture.tenantID,
                    time: now.addingTimeInterval(-hoursAgo * 3600),
                    kind: kind,
                    integrationKey: key,
                    status: status,
                    latencyMilliseconds: 5
                )
            }
            try await RequestLogRepository(database: fixture.runtime.database).insert([
                entry(200, hoursAgo: 1), entry(200, hoursAgo: 2, kind: .tool), entry(200, hoursAgo: 23, kind: .token), entry(502, hoursAgo: 3),
                entry(500, hoursAgo: 25), entry(500, hoursAgo: 1, key: "github"), entry(400, hoursAgo: 1, kind: .connect),
            ])
            let busy = try await admin.get("/admin/integrations/openai")
            #expect(Self.text(in: busy.text, from: #"id="usage-calls">"#, to: "</dd>")?.contains("4 calls,") == true)
            #expect(busy.text.contains("75% succeeded"))
        }
    }

    @Test func theListLinksEachIntegrationToItsPageAndBadgesTheOnesThatNeedAttention() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let store = fixture.runtime.integrations
            _ = try await store.create(.init(key: "github", provider: "github", clientID: "Iv1.x"), tenantID: fixture.tenantID, actor: .cli)
            _ = try await store.create(.init(key: "openai", provider: "openai", enabled: false), tenantID: fixture.tenantID, actor: .cli)
            let gitlab = try await store.create(.init(key: "gitlab", provider: "gitlab", clientID: "gl"), tenantID: fixture.tenantID, actor: .cli)
            try await store.markMisconfigured(gitlab, reason: "invalid_client")
            let admin = try await AppsPagesTests.admin(client, fixture)
            let list = try await admin.get("/admin/integrations")
            func rawRow(_ key: String) -> Substring {
                guard let start = list.text.range(of: #"data-integration="\#(key)">"#),
                    let end = list.text.range(of: "</tr>", range: start.upperBound..<list.text.endIndex)
                else { return "" }
                return list.text[start.upperBound..<end.lowerBound]
            }
            for key in ["github", "openai", "gitlab"] {
                #expect(rawRow(key).contains(#"<a href="/admin/integrations/\#(key)">"#), "\(key)")
            }
            #expect(rawRow("openai").contains(#"<span class="status warn">Disabled</span>"#))
            #expect(rawRow("gitlab").contains(#"<span class="status warn">Misconfigured</span>"#))
            #expect(!rawRow("github").contains("status warn") && rawRow("github").contains(#"<span class="status">Enabled</span>"#))
            // Every cell says which column it is in, for the phone-width layout.
            #expect(list.text.components(separatedBy: "<td").count == list.text.components(separatedBy: "<td data-label=").count)
            #expect(list.text.contains(#"<a href="/admin/integrations/gitlab">Check the client ID and secret of the integration gitlab</a>"#))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingAsksFirstAndIsRefusedWhileAccountsAreConnected(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let store = fixture.runtime.integrations
            _ = try await store.create(.init(key: "openai", provider: "openai"), tenantID: fixture.tenantID, actor: .cli)
            _ = try await store.create(.init(key: "stripe", provider: "stripe"), tenantID: fixture.tenantID, actor: .cli)
            let credential: [String: Any] = ["integration": "openai", "type": "api_key", "apiKey": "sk-1", "externalUserId": "alice"]
            #expect(
                try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(credential)).status
                    == .created
            )
            let admin = try await AppsPagesTests.admin(client, fixture)
            #expect(try await admin.get("/admin/integrations/openai").text.contains(#"href="/admin/integrations/openai/delete""#))

            // With an account connected: explained, no button, and a forced post is refused.
            let blocked = try await admin.get("/admin/integrations/openai/delete")
            #expect(blocked.status == .ok && blocked.text.contains("1 account is still connected") && !blocked.text.contains("confirm-delete"))
            _ = try await admin.get("/admin/integrations/stripe/delete")
            let refused = try await admin.post("/admin/integrations/openai/delete")
            #expect(refused.status == .conflict && refused.text.contains("It was not deleted"))
            #expect(try await store.integrations.find(key: "openai", tenantID: fixture.tenantID) != nil)

            // Without: a confirmation page, then gone, audited as the administrator.
            let confirm = try await admin.get("/admin/integrations/stripe/delete")
            #expect(confirm.text.contains("Delete the integration “Stripe” (stripe)?") && confirm.text.contains(#"class="danger""#))
            #expect(try await store.integrations.find(key: "stripe", tenantID: fixture.tenantID) != nil)
            let deleted = try await admin.post("/admin/integrations/stripe/delete")
            #expect(deleted.status == .seeOther && deleted.location == "/admin/integrations")
            #expect(try await store.integrations.find(key: "stripe", tenantID: fixture.tenantID) == nil)
            #expect(try await admin.get("/admin/integrations").text.contains("The integration Stripe (stripe) was deleted."))
            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "integration.delete" && $0.target == "stripe" && $0.actor.hasPrefix("user:") })
            #expect(try await admin.get("/admin/integrations/stripe/delete").status == .notFound)
        }
    }
}
