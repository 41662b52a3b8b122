import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Mustache
import NIOCore

/// What signed-in pages show around their content: who is signed in, the sign-out form and the navigation.
struct PageChrome {
    var userName: String
    var csrf: String
    var isAdmin: Bool

    init(_ context: some ConsoleContext, sessions: WebSessions) {
        self.init(user: context.user, sessionToken: context.sessionToken, sessions: sessions)
    }

    init(user: User, sessionToken: String, sessions: WebSessions) {
        self.userName = user.displayName
        self.csrf = sessions.csrfToken(for: sessionToken)
        self.isAdmin = user.isAdmin
    }

    /// The chrome of the person whose session cookie `request` carries, for pages outside the signed-in groups
    /// (error pages); nil when there is none or it has ended.
    static func of(_ request: Request, sessions: WebSessions) async -> PageChrome? {
        guard let token = request.cookies[WebCookies.session]?.value, !token.isEmpty,
            let session = try? await sessions.find(token)
        else { return nil }
        return PageChrome(user: session.user, sessionToken: token, sessions: sessions)
    }
}

/// Server-rendered pages: plain, accessible HTML that works without JavaScript, rendered with Mustache (which
/// escapes every value).
enum HTMLPage {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        // The templates are constants of this file; a parse error is a programming error caught by every test.
        try! library.register(Templates.layout, named: "layout")
        try! library.register(Templates.message, named: "message")
        try! library.register(Templates.setup, named: "setup")
        try! library.register(Templates.setupDone, named: "setup-done")
        for (name, template) in Templates.console { try! library.register(template, named: name) }
        for (name, template) in Templates.apps { try! library.register(template, named: name) }
        for (name, template) in Templates.hostedConnect { try! library.register(template, named: name) }
        for (name, template) in Templates.admin { try! library.register(template, named: name) }
        for (name, template) in Templates.integrations { try! library.register(template, named: name) }
        for (name, template) in Templates.oauth { try! library.register(template, named: name) }
        return library
    }()

    /// Renders `template` inside the layout. `policy` names the other origins the page's forms may lead to; every
    /// page whose forms stay on our origin keeps the standard one. `refresh` makes the browser go on to that URL at
    /// once (a navigation, which `form-action` does not govern).
    static func render(
        _ template: String,
        title: String,
        context: [String: Any],
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:],
        chrome: PageChrome? = nil,
        wide: Bool = false,
        policy: ContentSecurityPolicy = .standard,
        refresh: URL? = nil
    )
        -> Response
    {
        let content = library.render(Self.withoutNils(context) ?? [:], withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": content, "wide": wide]
        if let refresh { layout["refresh"] = refresh.absoluteString }
        if let chrome {
            layout["chrome"] = ["userName": chrome.userName, "csrf": chrome.csrf, "isAdmin": chrome.isAdmin]
        }
        let page = library.render(layout, withTemplate: "layout") ?? ""
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        fields[.cacheControl] = "no-store"
        fields[.contentSecurityPolicy] = policy.headerValue
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    /// The context with every empty optional removed (and present ones unwrapped), at any depth: a missing value
    /// then renders as nothing and tests false in a section, instead of the text "nil".
    static func withoutNils(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutNils(wrapped)
        }
        if value is NSNull { return nil }
        if let dictionary = value as? [String: Any] {
            return dictionary.compactMapValues { withoutNils($0) }
        }
        if let array = value as? [Any] {
            return array.compactMap { withoutNils($0) }
        }
        return value
    }

    /// An error page. With `chrome`, the signed-in person keeps the navigation.
    static func error(status: HTTPResponse.Status, title: String, message: String, headers: HTTPFields = [:], chrome: PageChrome? = nil) -> Response {
        render(
            "message",
            title: title,
            context: ["heading": title, "message": message, "home": true],
            status: status,
            headers: headers,
            chrome: chrome
        )
    }

    static func title(for error: LatchkeyError) -> String {
        switch error.code {
        case .notFound: "Page not found"
        case .unauthorized: "Please sign in"
        case .forbidden: "Not allowed"
        case .invalidRequest, .payloadTooLarge: "Something is not right with that request"
        case .internalError, .decryptionFailed, .unavailable: "Something went wrong"
        default: "That did not work"
        }
    }
}

enum Templates {
    /// `{{{content}}}` is pre-rendered, escaped HTML from another template.
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Latchkey</title>
        {{#refresh}}<meta http-equiv="refresh" content="0; url={{refresh}}">{{/refresh}}
        <style>
        :root { color-scheme: light dark; --accent: #3b5bdb; --muted: #6b7280; --border: #d1d5db; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f7f9; color: #111827; }
        @media (prefers-color-scheme: dark) { body { background: #0f1115; color: #e5e7eb; } .card { background: #181b21 !important; } }
        header { background: #111827; color: #fff; padding: 0.75rem 1.5rem; display: flex; align-items: center; gap: 0.5rem; }
        header a { color: #fff; text-decoration: none; font-weight: 650; letter-spacing: 0.01em; display: inline-flex; align-items: center; gap: 0.5rem; }
        .mark { width: 1.1rem; height: 1.1rem; border-radius: 4px; background: linear-gradient(135deg, #5c7cfa, #3b5bdb); box-shadow: inset 0 0 0 3px #111827, inset 0 0 0 5px #91a7ff; }
        main { max-width: 34rem; margin: 2.5rem auto; padding: 0 1rem; }
        main.wide { max-width: 56rem; }
        header nav { margin-left: auto; display: flex; align-items: center; gap: 0.4rem 1rem; flex-wrap: wrap; }
        header { flex-wrap: wrap; }
        .preview { margin-bottom: 1rem; }
        .scroll { overflow-x: auto; }
        .actions select { width: auto; margin-top: 0.75rem; }
        header nav a { font-weight: 500; }
        header nav form { margin: 0; }
        header nav button { margin: 0; padding: 0.35rem 0.8rem; background: transparent; border: 1px solid #4b5563; }
        .who { color: #d1d5db; font-size: 0.9rem; }
        .flash { background: #ecfdf5; color: #065f46; border: 1px solid #a7f3d0; border-radius: 8px; padding: 0.75rem 1rem; margin-bottom: 1.25rem; }
        .grid { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
        .list { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem; }
        .tile { background: #fff; border: 1px solid var(--border); border-radius: 12px; padding: 1.1rem 1.25rem; }
        @media (prefers-color-scheme: dark) { .tile { background: #181b21; } }
        .tile h3 { margin: 0 0 0.35rem; font-size: 1.05rem; display: flex; align-items: center; gap: 0.5rem; }
        .badge { display: inline-flex; width: 1.6rem; height: 1.6rem; border-radius: 6px; align-items: center; justify-content: center;
          background: #e0e7ff; color: #3730a3; font-weight: 700; font-size: 0.85rem; }
        .perm { margin: 0.25rem 0 0; padding-left: 1.1rem; color: var(--muted); font-size: 0.9rem; }
        .meta { color: var(--muted); font-size: 0.9rem; margin: 0.2rem 0; }
        .status { display: inline-block; border-radius: 999px; padding: 0.05rem 0.6rem; font-size: 0.8rem; font-weight: 600; background: #ecfdf5; color: #065f46; }
        .status.warn { background: #fef3c7; color: #92400e; }
        .actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
        .actions form { margin: 0; }
        .actions button, .actions .button { margin-top: 0.75rem; }
        button.secondary, .button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
        button.danger { background: #b91c1c; }
        h2 { font-size: 1.15rem; margin: 2rem 0 0.75rem; }
        table { width: 100%; border-collapse: collapse; font-size: 0.95rem; }
        th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--border); vertical-align: top; }
        select, textarea { width: 100%; padding: 0.6rem 0.7rem; border: 1px solid var(--border); border-radius: 8px; font: inherit; }
        .card { background: #fff; border: 1px solid var(--border); border-radius: 12px; padding: 1.75rem; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
        h1 { font-size: 1.4rem; margin: 0 0 0.75rem; }
        p { margin: 0.5rem 0 1rem; }
        label { display: block; font-weight: 600; margin: 1rem 0 0.25rem; }
        .hint { color: var(--muted); font-size: 0.875rem; font-weight: 400; }
        input { width: 100%; padding: 0.6rem 0.7rem; border: 1px solid var(--border); border-radius: 8px; font: inherit; }
        input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
        button, .button { display: inline-block; margin-top: 1.25rem; background: var(--accent); color: #fff; border: 0; border-radius: 8px;
          padding: 0.65rem 1.1rem; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
        .error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 8px; padding: 0.75rem 1rem; }
        .secret { font-family: ui-monospace, monospace; word-break: break-all; background: #f3f4f6; color: #111827; padding: 0.75rem; border-radius: 8px; }
        footer { text-align: center; color: var(--muted); font-size: 0.8rem; margin: 2rem 0; }
        </style>
        </head>
        <body>
        <header><a href="/"><span class="mark" aria-hidden="true"></span>Latchkey</a>
        {{#chrome}}<nav aria-label="Main">
        <a href="/connections">Connections</a><a href="/settings/authorized-apps">Authorized apps</a>
        {{#isAdmin}}<a href="/admin/integrations">Integrations</a><a href="/admin/connections">Health</a><a href="/admin/apps">Apps</a><a href="/admin/users">Users</a><a href="/admin/keys">Keys</a><a href="/admin/audit">Audit</a>{{/isAdmin}}
        <span class="who">{{userName}}</span>
        <form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" id="sign-out">Sign out</button></form>
        </nav>{{/chrome}}
        </header>
        <main{{#wide}} class="wide"{{/wide}}>
        {{{content}}}
        </main>
        <footer>Latchkey · self-hosted credential vault</footer>
        </body>
        </html>
        """

    static let message = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">{{heading}}</h1>
        <p>{{message}}</p>
        {{#link}}<a class="button" id="{{id}}" href="{{href}}">{{label}}</a>{{/link}}
        {{#home}}<a class="button{{#link}} secondary{{/link}}" href="/">Go to the start page</a>{{/home}}
        </section>
        """

    static let setup = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Create the first administrator</h1>
        <p>This one-time page sets up the administrator of this Latchkey server. The link stops working once the account exists.</p>
        {{#hasErrors}}<div class="error" role="alert"><strong>Please fix the following:</strong><ul>{{#errors}}<li>{{.}}</li>{{/errors}}</ul></div>{{/hasErrors}}
        <form method="post" action="/setup?token={{token}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}">
        <label for="name">Your name</label>
        <input id="name" name="name" type="text" autocomplete="name" required value="{{name}}">
        <label for="password">Password <span class="hint">(at least 12 characters)</span></label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
        <label for="confirm">Repeat the password</label>
        <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="12" required>
        <button type="submit">Create administrator</button>
        </form>
        </section>
        """

    static let setupDone = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Administrator created</h1>
        <p>Welcome, {{name}}. Your administrator account <strong>{{email}}</strong> is ready.</p>
        <p>Here is an admin API key for the <code>/api/v1</code> endpoints. It is shown <strong>only this once</strong>; store it in a password manager:</p>
        <p class="secret" id="admin-key">{{apiKey}}</p>
        <button type="button" class="secondary copy" data-copy="admin-key" hidden>Copy the key</button>
        <p class="hint">Try it: <code>curl -H "Authorization: Bearer &lt;key&gt;" {{publicURL}}/api/v1/credentials</code>. More keys: <code>latchkey keys create-admin</code>.</p>
        <p>Next, sign in to the console with your email and password: add the services your people may connect under <em>Integrations</em>, and connect your own accounts under <em>Connections</em>.</p>
        <a class="button" id="open-console" href="/login">Open the console</a>
        </section>
        <script src="/assets/console.js"></script>
        """
}
