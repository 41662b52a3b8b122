import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// What signed-in pages show around their content: who is signed in, the sign-out form and the navigation.
struct PageChrome {
    var userName: String
    var csrf: String
    /// Shows the administration's links: an administrator or an auditor.
    var isAdmin: Bool
    /// An auditor: the page's forms that change something are not shown (the server refuses them too).
    var isAuditor = false
    /// The path of the page shown: its link in the navigation is marked as the current one (none when empty).
    var currentPath = ""

    init(_ context: some ConsoleContext, sessions: WebSessions) {
        self.init(user: context.user, sessionToken: context.sessionToken, sessions: sessions)
        self.currentPath = context.requestPath
    }

    init(user: User, sessionToken: String, sessions: WebSessions) {
        self.userName = user.displayName
        self.csrf = sessions.csrfToken(for: sessionToken)
        self.isAdmin = user.seesAdministration
        self.isAuditor = user.role == .auditor
    }

    /// The chrome of the person whose session cookie `request` carries, for pages outside the signed-in groups
    /// (error pages); nil when there is none or it has ended.
    static func of(_ request: Request, sessions: WebSessions) async -> PageChrome? {
        guard let token = request.cookies[WebCookies.session]?.value, !token.isEmpty,
            let session = try? await sessions.find(token)
        else { return nil }
        var chrome = PageChrome(user: session.user, sessionToken: token, sessions: sessions)
        chrome.currentPath = request.uri.path
        return chrome
    }

    /// The layout's view of it: the navigation's links with the current one marked.
    var renderContext: [String: Any] {
        let links = PageNavigation.links(isAdmin: isAdmin).map { link -> [String: Any] in
            var item: [String: Any] = ["href": link.href, "label": link.label]
            if let current = link.current(at: currentPath) { item["current"] = current }
            return item
        }
        var values: [String: Any] = ["userName": userName, "csrf": csrf, "isAdmin": isAdmin, "nav": links]
        // Their own sign-in settings stay theirs to change.
        if isAuditor, !RequireSignInMiddleware.isOwnAccount(currentPath) { values["readOnly"] = true }
        return values
    }
}

/// The console's navigation: every person's own pages, and the administrator's pages for administrators.
enum PageNavigation {
    struct Link: Equatable {
        var href: String
        var label: String
        /// Pages under `href` (e.g. one app under Apps) belong to its section; the overview is only itself.
        var section = true

        /// `aria-current` for the page at `path`: "page" on the link's own page, "true" on a page of its section,
        /// nil elsewhere.
        func current(at path: String) -> String? {
            let path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if path == href { return "page" }
            if section, path.hasPrefix(href + "/") { return "true" }
            return nil
        }
    }

    /// Every person's own settings (linked accounts, sessions, authorized apps) are one entry, whose page links each;
    /// on any of them the entry is marked as the section.
    static let everyone: [Link] = [
        Link(href: "/connections", label: "Connections"),
        Link(href: "/settings", label: "Settings"),
    ]

    static let administrator: [Link] = [
        Link(href: "/admin", label: "Overview", section: false),
        Link(href: "/admin/integrations", label: "Integrations"),
        Link(href: "/admin/connections", label: "Health"),
        Link(href: "/admin/apps", label: "Apps"),
        Link(href: "/admin/users", label: "Users"),
        Link(href: "/admin/webhooks", label: "Webhooks"),
        Link(href: "/admin/keys", label: "Keys"),
        Link(href: "/admin/incidents", label: "Incidents"),
        Link(href: "/admin/audit", label: "Audit"),
    ]

    /// The links a person sees, in order.
    static func links(isAdmin: Bool) -> [Link] {
        isAdmin ? administrator + everyone : everyone
    }
}
