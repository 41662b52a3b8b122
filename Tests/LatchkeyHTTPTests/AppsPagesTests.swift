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

/// The console's Apps pages: the key shown once, regeneration behind a confirmation, settings with their checks,
/// per-app OAuth clients with a write-only secret, and a Connection's shared credential by OAuth and by import.
@Suite("Apps pages")
struct AppsPagesTests {
    static func apps(_ fixture: TestFixture) -> AppService {
        AppService(vault: fixture.runtime.vault, audit: fixture.runtime.audit, logger: fixture.runtime.logger)
    }

    static func admin(_ client: any TestClientProtocol, _ fixture: TestFixture) async throws -> WebBrowser {
        try await TestUsers.create(fixture, email: "admin@example.com", admin: true)
        let browser = WebBrowser(client)
        _ = try await browser.signIn(email: "admin@example.com", password: "correct-horse-battery")
        return browser
    }

    static func key(in html: String) -> String? {
        guard let range = html.range(of: #"lk_app_[A-Za-z0-9_-]+"#, options: .regularExpression) else { return nil }
        return String(html[range])
    }

    @Test(arguments: TestDatabases.kinds)
    func theKeyIsShownOnceAndRegeneratingNeedsAConfirmation(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await Self.admin(client, fixture)
            _ = try await admin.get("/admin/apps")
            let created = try await admin.post("/admin/apps", ["name": "DerekApp", "accentColor": "#FF5500", "origins": "https://derek.example"])
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            #expect(created.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let key = try #require(Self.key(in: created.text))
            #expect(created.text.contains(#"id="app-key">\#(key)<"#))
            let app = try #require(try await Self.apps(fixture).authenticate(key: key))
            #expect(app.name == "DerekApp")
            #expect(app.branding.accentColor == "#ff5500")
            #expect(app.allowedRedirectOrigins == ["https://derek.example"])
            // Never again: not in the list, not on the app's page.
            let list = try await admin.get("/admin/apps")
            #expect(list.text.contains(#"data-app-id="\#(app.id)""#))
            #expect(!list.text.contains(key))
            let page = try await admin.get("/admin/apps/\(app.id)")
            #expect(page.status == .ok)
            #expect(!page.text.contains(key))
            #expect(page.text.contains(#"id="branding-preview""#) && page.text.contains("#ff5500"))
            // Regenerating without ticking the box changes nothing.
            _ = try await admin.get("/admin/apps/\(app.id)/regenerate")
            let unconfirmed = try await admin.post("/admin/apps/\(app.id)/regenerate")
            #expect(unconfirmed.status == .badRequest)
            #expect(try await Self.apps(fixture).authenticate(key: key)?.id == app.id)
            let regenerated = try await admin.post("/admin/apps/\(app.id)/regenerate", ["confirm": "yes"])
            #expect(regenerated.status == .ok)
            let newKey = try #require(Self.key(in: regenerated.text))
            #expect(newKey != key)
            #expect(try await Self.apps(fixture).authenticate(key: key) == nil)
            #expect(try await Self.apps(fixture).authenticate(key: newKey)?.id == app.id)
            let events = try await fixture.auditEvents()
            #expect(events.contains { $0.action == "app.key_regenerate" && $0.target == app.id && $0.actor.hasPrefix("user:") })
        }
    }

    @Test func badInputIsExplainedAndChangesNothing() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await Self.admin(client, fixture)
            _ = try await admin.get("/admin/apps")
            for (field, value, words) in [
                ("accentColor", "red", "Accent colour must be a colour written #rrggbb"),
                ("logoUrl", "http://logo.example/x.png", "Logo URL must be an absolute https URL"),
                ("origins", "javascript:alert(1)", "javascript: is never allowed"),
                ("origins", "https://a.example/path", "without a path"),
            ] {
                let refused = try await admin.post("/admin/apps", ["name": "Bad", field: value])
                #expect(refused.status == .badRequest, "\(field)")
                #expect(refused.text.contains(words), "\(field)")
            }
            #expect(try await Self.apps(fixture).list(tenantID: fixture.tenantID).count == 1)  // the console app only
            let created = try await admin.post("/admin/apps", ["name": "Good"])
            let goodKey = try #require(Self.key(in: created.text))
            let app = try #require(try await Self.apps(fixture).authenticate(key: goodKey))
            _ = try await admin.get("/admin/apps/\(app.id)")
            let bad = try await admin.post("/admin/apps/\(app.id)", ["name": "Renamed", "accentColor": "#12345g", "status": "active"])
            #expect(bad.status == .badRequest)
            #expect(try await Self.apps(fixture).app(id: app.id, tenantID: fixture.tenantID).name == "Good")
            // Unknown ids, a forged form, and the console app's limits.
            #expect(try await admin.get("/admin/apps/\(UUID().uuidString)").status == .notFound)
            #expect(try await admin.get("/admin/apps/not-an-id").status == .badRequest)
            #expect(try await admin.post("/admin/apps/\(app.id)", ["name": "X"], csrf: false).status == .forbidden)
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let consoleDelete = try await admin.post("/admin/apps/\(console.id)/delete", ["confirm": "yes"])
            #expect(consoleDelete.status == .conflict)
            #expect(consoleDelete.text.contains("console app cannot be deleted"))
            // Members cannot open the pages.
            try await TestUsers.create(fixture, email: "bob@example.com")
            let bob = WebBrowser(client)
            _ = try await bob.signIn(email: "bob@example.com", password: "correct-horse-battery")
            #expect(try await bob.get("/admin/apps").status == .forbidden)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anotherTenantsAppAndFormsWithoutTheirTokenChangeNothing(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let other = try await fixture.runtime.tenants.createTenant(slug: "other", name: "Other", actor: .cli)
            let (theirs, theirKey) = try await Self.apps(fixture).create(.init(name: "Theirs"), tenantID: other.id, actor: .cli)
            let admin = try await Self.admin(client, fixture)
            _ = try await admin.get("/admin/apps")
            let created = try await admin.post("/admin/apps", ["name": "Mine"])
            let key = try #require(Self.key(in: created.text))
            let mine = try #require(try await Self.apps(fixture).authenticate(key: key))
            _ = try await admin.get("/admin/apps/\(mine.id)")
            for (path, fields) in [
                ("/admin/apps/\(theirs.id)", ["name": "Taken"]),
                ("/admin/apps/\(theirs.id)/regenerate", ["confirm": "yes"]),
                ("/admin/apps/\(theirs.id)/delete", ["confirm": "yes"]),
                ("/admin/apps/\(theirs.id)/integrations/github/config", ["clientId": "x"]),
            ] {
                #expect(try await admin.post(path, fields).status == .notFound, "\(path)")
            }
            #expect(try await admin.get("/admin/apps/\(theirs.id)").status == .notFound)
            #expect(!(try await admin.get("/admin/apps").text.contains(theirs.id)))
            #expect(try await Self.apps(fixture).authenticate(key: theirKey)?.name == "Theirs")
            // Every form of the pages needs the page's token.
            let connection = UUID().uuidString.lowercased()
            for path in [
                "/admin/apps", "/admin/apps/\(mine.id)", "/admin/apps/\(mine.id)/regenerate", "/admin/apps/\(mine.id)/delete",
                "/admin/apps/\(mine.id)/integrations/github/config", "/admin/apps/\(mine.id)/integrations/github/config/delete",
                "/admin/apps/\(mine.id)/connections", "/admin/apps/\(mine.id)/connections/\(connection)/connect-shared",
                "/admin/apps/\(mine.id)/connections/\(connection)/import",
            ] {
                let forged = try await admin.post(path, ["csrf_token": "forged-token-value", "name": "Forged", "confirm": "yes"], csrf: false)
                #expect(forged.status == .forbidden, "\(path)")
            }
            #expect(try await Self.apps(fixture).authenticate(key: key)?.name == "Mine")
            #expect(try await Self.apps(fixture).list(tenantID: fixture.tenantID).count == 2)
            // Disabling from the page stops the key; the console app's page explains what it cannot do.
            _ = try await admin.get("/admin/apps/\(mine.id)")
            #expect(try await admin.post("/admin/apps/\(mine.id)", ["name": "Mine", "status": "disabled"]).status == .seeOther)
            let refused = try await client.execute(
                uri: "/api/v1/connect/sessions",
                method: .post,
                headers: AppsAPITests.appHeaders(key),
                body: try body(["externalUserId": "sarah", "integration": "github"])
            )
            #expect(refused.status == .forbidden)
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let consolePage = try await admin.get("/admin/apps/\(console.id)")
            #expect(consolePage.status == .ok)
            #expect(consolePage.text.contains("cannot be disabled or deleted"))
            #expect(!consolePage.text.contains(#"id="regenerate""#))
        }
    }

    @Test func theAppsOAuthClientSecretIsWriteOnly() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "github", provider: "github", clientID: "tenant-client", clientSecret: "tenant-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let admin = try await Self.admin(client, fixture)
            _ = try await admin.get("/admin/apps")
            let created = try await admin.post("/admin/apps", ["name": "DerekApp"])
            let createdKey = try #require(Self.key(in: created.text))
            let app = try #require(try await Self.apps(fixture).authenticate(key: createdKey))
            _ = try await admin.get("/admin/apps/\(app.id)")
            let saved = try await admin.post(
                "/admin/apps/\(app.id)/integrations/github/config",
                ["clientId": "derek-client", "clientSecret": "derek-page-secret", "scopes": "repo"]
            )
            #expect(saved.status == .seeOther)
            let page = try await admin.get(try #require(saved.location))
            #expect(page.text.contains("derek-client"))
            #expect(page.text.contains(#"class="secret-state">set<"#))
            #expect(!page.text.contains("derek-page-secret"))
            let github = try #require(try await fixture.runtime.integrations.integrations.find(key: "github", tenantID: fixture.tenantID))
            let chosen = try await fixture.runtime.integrations.client(issuedBy: AppIntegrationConfig.issuer(appID: app.id), integration: github)
            #expect(chosen?.clientSecret == "derek-page-secret")
            // Cleared: "not set".
            _ = try await admin.post("/admin/apps/\(app.id)/integrations/github/config", ["clientId": "derek-client", "clearSecret": "yes"])
            #expect(try await admin.get("/admin/apps/\(app.id)").text.contains(#"class="secret-state">not set<"#))
        }
    }

    /// *Connect shared account* runs the provider's flow and stores the Connection's credential with no end user;
    /// the app's key then gets it for an end user who has none of their own.
    @Test(arguments: TestDatabases.kinds)
    func aSharedAccountConnectedByOAuthServesEndUsersWithoutTheirOwn(kind: TestDatabases.Kind) async throws {
        let provider = try #require(ConnectFlowTests.catalog.provider(id: "github"))
        let fake = try FakeProvider(provider: provider, clientID: "derek-client", clientSecret: "derek-secret")
        try await TestApp.with(kind, transport: FakeNetwork([fake])) { client, fixture in
            _ = try await fixture.runtime.integrations.create(
                .init(key: "github", provider: "github", clientID: "tenant-client", clientSecret: "tenant-secret"),
                tenantID: fixture.tenantID,
                actor: .cli
            )
            let admin = try await Self.admin(client, fixture)
            _ = try await admin.get("/admin/apps")
            let created = try await admin.post("/admin/apps", ["name": "DerekApp"])
            let key = try #require(Self.key(in: created.text))
            let app = try #require(try await Self.apps(fixture).authenticate(key: key))
            _ = try await admin.get("/admin/apps/\(app.id)")
            _ = try await admin.post(
                "/admin/apps/\(app.id)/integrations/github/config",
                ["clientId": "derek-client", "clientSecret": "derek-secret"]
            )
            _ = try await admin.get("/admin/apps/\(app.id)")
            #expect(try await admin.post("/admin/apps/\(app.id)/connections", ["integration": "github"]).status == .seeOther)
            let connection = try #require(
                try await fixture.runtime.tenants.directory.connections(tenantID: fixture.tenantID).first { $0.appID == app.id }
            )
            let page = try await admin.get("/admin/apps/\(app.id)")
            #expect(page.text.contains("/connections/\(connection.id)/connect-shared"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("https://github.com") == true)
            // Denied at the provider: nothing stored, and no *Try again* that would connect the admin's own account.
            let denied = try await admin.post("/admin/apps/\(app.id)/connections/\(connection.id)/connect-shared")
            let deniedURL = try #require(denied.location.flatMap(URL.init(string:)))
            let refusal = try await admin.get(WebBrowser.pathAndQuery(try fake.authorize(url: deniedURL, approve: false)))
            #expect(refusal.status == .badRequest)
            #expect(refusal.text.contains("did not allow access"))
            #expect(!refusal.text.contains(#"id="try-again""#))
            #expect(try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init()).items.isEmpty)
            _ = try await admin.get("/admin/apps/\(app.id)")
            let started = try await admin.post("/admin/apps/\(app.id)/connections/\(connection.id)/connect-shared")
            #expect(started.status == .seeOther)
            let authorize = try #require(started.location.flatMap(URL.init(string:)))
            #expect(queryOf(authorize)["client_id"] == "derek-client")  // the app's own client
            let callback = try await fake.authorize(url: authorize, accountID: "4242", email: "bot@derek.example")
            let done = try await admin.get(WebBrowser.pathAndQuery(callback))
            #expect(done.location == "/admin/apps/\(app.id)")
            #expect(try await admin.get("/admin/apps/\(app.id)").text.contains("Shared credential connected."))
            let shared = try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init(connectionID: connection.id)).items
            #expect(shared.count == 1)
            #expect(shared.first?.endUserID == nil)
            #expect(shared.first?.issuedBy == AppIntegrationConfig.issuer(appID: app.id))
            let doneLocation = try #require(done.location)
            #expect(try await admin.get(doneLocation).text.contains(#"class="shared-account">bot@derek.example<"#))
            // The app's key: an end user with nothing of their own gets the shared token.
            let token = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: AppsAPITests.appHeaders(key),
                body: try body(["integration": "github", "externalUserId": "sarah"])
            )
            #expect(token.status == .ok)
            let sharedID = try #require(shared.first?.id)
            let (_, secret) = try await fixture.runtime.vault.reveal(id: sharedID, tenantID: fixture.tenantID, actor: .cli)
            #expect(try token.json["accessToken"] as? String == secret.accessToken)
            // Connecting again replaces the shared token rather than adding a second one.
            _ = try await admin.get("/admin/apps/\(app.id)")
            let again = try await admin.post("/admin/apps/\(app.id)/connections/\(connection.id)/connect-shared")
            let authorizeAgain = try #require(again.location.flatMap(URL.init(string:)))
            let callback2 = try await fake.authorize(url: authorizeAgain, accountID: "4242", email: "bot@derek.example")
            _ = try await admin.get(WebBrowser.pathAndQuery(callback2))
            #expect(try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init(connectionID: connection.id)).items.count == 1)
            // The console app's Connections take a shared credential by import only: said plainly, nothing started.
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            _ = try await admin.get("/admin/apps/\(console.id)")
            _ = try await admin.post("/admin/apps/\(console.id)/connections", ["integration": "github"])
            let consoleConnection = try #require(
                try await fixture.runtime.tenants.directory.connections(tenantID: fixture.tenantID).first { $0.appID == console.id }
            )
            let refused = try await admin.post("/admin/apps/\(console.id)/connections/\(consoleConnection.id)/connect-shared")
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("by import only"))
            // Nor through another app's page.
            _ = try await admin.get("/admin/apps/\(app.id)")
            #expect(try await admin.post("/admin/apps/\(app.id)/connections/\(consoleConnection.id)/connect-shared").status == .notFound)
        }
    }

    @Test func aSharedTokenIsImportedOnAnotherAppsConnectionOnlyByItsOwnPage() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            _ = try await fixture.runtime.integrations.create(.init(key: "openai", provider: "openai"), tenantID: fixture.tenantID, actor: .cli)
            let admin = try await Self.admin(client, fixture)
            _ = try await admin.get("/admin/apps")
            let first = try await admin.post("/admin/apps", ["name": "One"])
            let key = try #require(Self.key(in: first.text))
            let one = try #require(try await Self.apps(fixture).authenticate(key: key))
            _ = try await admin.get("/admin/apps")
            let second = try await admin.post("/admin/apps", ["name": "Two"])
            let secondKey = try #require(Self.key(in: second.text))
            let two = try #require(try await Self.apps(fixture).authenticate(key: secondKey))
            _ = try await admin.get("/admin/apps/\(one.id)")
            _ = try await admin.post("/admin/apps/\(one.id)/connections", ["integration": "openai"])
            let connection = try #require(
                try await fixture.runtime.tenants.directory.connections(tenantID: fixture.tenantID).first { $0.appID == one.id }
            )
            _ = try await admin.get("/admin/apps/\(one.id)")
            // Through the other app's page: not found, nothing stored.
            let crossed = try await admin.post(
                "/admin/apps/\(two.id)/connections/\(connection.id)/import",
                ["type": "api_key", "secret": "sk-shared-1"]
            )
            #expect(crossed.status == .notFound)
            #expect(try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init(connectionID: connection.id)).items.isEmpty)
            let imported = try await admin.post(
                "/admin/apps/\(one.id)/connections/\(connection.id)/import",
                ["type": "api_key", "secret": "sk-shared-1"]
            )
            #expect(imported.status == .seeOther)
            let page = try await admin.get(try #require(imported.location))
            #expect(!page.text.contains("sk-shared-1"))
            let stored = try await fixture.runtime.vault.list(tenantID: fixture.tenantID, filter: .init(connectionID: connection.id)).items
            #expect(stored.count == 1 && stored.first?.endUserID == nil && stored.first?.type == .apiKey)
            let token = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: AppsAPITests.appHeaders(key),
                body: try body(["integration": "openai", "externalUserId": "anyone"])
            )
            #expect(token.status == .ok)
            #expect(token.text.contains("sk-shared-1"))
        }
    }
}
