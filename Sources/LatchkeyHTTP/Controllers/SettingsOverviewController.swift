import Hummingbird
import LatchkeyCore

/// `/settings`: where the navigation's *Settings* leads — the person's own settings pages, one line each (linked
/// accounts, sessions, authorized apps). A plain page of links, so that it works on a phone and without JavaScript.
struct SettingsOverviewController {
    let sessions: WebSessions

    /// The settings pages, in the order the page lists them.
    static let pages: [(href: String, label: String, about: String)] = [
        ("/settings/identities", "Linked accounts", "The ways you sign in: password, passkeys, single sign-on, chat accounts."),
        ("/settings/sessions", "Sessions", "The browsers you are signed in on; sign out of one, or everywhere."),
        ("/settings/authorized-apps", "Authorized apps", "Applications you allowed to use your services through MCP."),
    ]

    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.get("settings", use: show)
    }

    @Sendable func show(_ request: Request, context: SignedInContext) async throws -> Response {
        HTMLPage.render(
            "settings",
            title: "Settings",
            context: ["pages": Self.pages.map { ["href": $0.href, "label": $0.label, "about": $0.about] }],
            chrome: PageChrome(context, sessions: sessions)
        )
    }
}
