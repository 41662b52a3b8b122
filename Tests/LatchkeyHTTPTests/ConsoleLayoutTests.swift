import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The layout around every console page: the navigation (who sees which link, which one is marked as the page
/// shown) and tables that can turn into lists on a phone.
@Suite("Console layout")
struct ConsoleLayoutTests {
    /// The main navigation of a page (the one shown on wide screens).
    static func mainNavigation(_ html: String) -> String? {
        guard let start = html.range(of: #"<nav aria-label="Main">"#),
            let end = html.range(of: "</nav>", range: start.upperBound..<html.endIndex)
        else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }

    /// The href of every link of the main navigation, in order.
    static func links(_ nav: String) -> [String] {
        nav.matches(of: #/<a href="([^"]+)"/#).map { String($0.output.1) }
    }

    /// href → value of `aria-current` for the links of the main navigation that carry one.
    static func current(_ nav: String) -> [String: String] {
        var found: [String: String] = [:]
        for match in nav.matches(of: #/<a href="([^"]+)" aria-current="([a-z]+)"/#) {
            found[String(match.output.1)] = String(match.output.2)
        }
        return found
    }

    /// The `<td>` tags of a page without a `data-label`.
    static func unlabelledCells(_ html: String) -> [String] {
        html.matches(of: #/<td(\s[^>]*)?>/#).map { String($0.output.0) }.filter { !$0.contains("data-label=\"") }
    }

    @Test(arguments: TestDatabases.kinds)
    func theNavigationMarksThePageAnAdministratorIsOn(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let signIn = try await WebBrowser(client).get("/login")
            #expect(signIn.text.contains(#"autocomplete="username" required autofocus"#))
            let keys = try await admin.get("/admin/keys")
            let nav = try #require(Self.mainNavigation(keys.text))
            #expect(
                Self.links(nav) == [
                    "/admin", "/admin/integrations", "/admin/connections", "/admin/apps", "/admin/users", "/admin/webhooks",
                    "/admin/keys", "/admin/incidents", "/admin/audit", "/connections", "/settings",
                ]
            )
            #expect(Self.current(nav) == ["/admin/keys": "page"])
            // The same links behind a menu button for narrow screens, with the same mark.
            #expect(keys.text.contains(#"<details class="menu"><summary>Menu</summary>"#))
            #expect(keys.text.components(separatedBy: #"<a href="/admin/keys" aria-current="page">"#).count == 3)

            let center = try #require(Self.mainNavigation(try await admin.get("/connections").text))
            #expect(Self.current(center) == ["/connections": "page"])
            // A page inside a section marks the section; the overview is only itself.
            let app = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            let detail = try #require(Self.mainNavigation(try await admin.get("/admin/apps/\(app.id)").text))
            #expect(Self.current(detail) == ["/admin/apps": "true"])
            // An error page keeps the navigation, with nothing marked for a page that is not there.
            let missing = try await admin.get("/admin/nope")
            #expect(missing.status == .notFound)
            #expect(Self.current(try #require(Self.mainNavigation(missing.text))).isEmpty)
        }
    }

    @Test func membersSeeOnlyTheirOwnPages() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "member@example.com")
            let member = WebBrowser(client)
            _ = try await member.signIn(email: "member@example.com", password: "correct-horse-battery")
            let page = try await member.get("/settings/authorized-apps")
            let nav = try #require(Self.mainNavigation(page.text))
            #expect(Self.links(nav) == ["/connections", "/settings"])
            // Every settings page belongs to the one Settings entry, whose page links each of them.
            #expect(Self.current(nav) == ["/settings": "true"])
            for path in ["/settings/identities", "/settings/sessions"] {
                let settingsPage = try await member.get(path)
                #expect(Self.current(try #require(Self.mainNavigation(settingsPage.text))) == ["/settings": "true"], "\(path)")
            }
            let settings = try await member.get("/settings")
            #expect(Self.current(try #require(Self.mainNavigation(settings.text))) == ["/settings": "page"])
            for path in ["/settings/identities", "/settings/sessions", "/settings/authorized-apps"] {
                #expect(settings.text.contains(#"<a href="\#(path)">"#), "\(path)")
            }
            #expect(!page.text.contains(#"href="/admin"#))
        }
    }

    @Test func everyTableCellNamesItsColumnForNarrowScreens() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            _ = try await admin.get("/admin/keys")
            _ = try await admin.post("/admin/keys", ["name": "billing sync"])
            for path in ["/admin/keys", "/admin/audit", "/admin/apps", "/admin/users", "/settings/sessions", "/settings/identities"] {
                let page = try await admin.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(page.text.contains("<td"), "\(path) has no table rows to check")
                #expect(Self.unlabelledCells(page.text).isEmpty, "\(path): \(Self.unlabelledCells(page.text))")
            }
        }
    }

    @Test func aFormToTypeInTakesTheFocusAndAPageToReadDoesNot() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let admin = try await AppsPagesTests.admin(client, fixture)
            let signIn = try await WebBrowser(client).get("/login")
            #expect(signIn.text.contains(#"autocomplete="username" required autofocus"#))
            let keys = try await admin.get("/admin/keys")
            #expect(keys.text.contains(#"<input id="key-name" name="name" maxlength="100" required autofocus"#))
            #expect(keys.text.components(separatedBy: "autofocus").count == 2, "one field takes the focus")
            // Pages to read first (a list, an endpoint and its deliveries) keep the focus at their top.
            _ = try await admin.get("/admin/webhooks")
            _ = try await admin.post("/admin/webhooks", ["url": "https://hooks.example/latchkey"])
            for path in ["/admin/audit", "/admin/apps", "/admin/users", "/admin/webhooks"] {
                #expect(!(try await admin.get(path).text.contains("autofocus")), "\(path)")
            }
        }
    }
}
