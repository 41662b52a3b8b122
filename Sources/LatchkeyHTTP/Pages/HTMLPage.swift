import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Mustache
import NIOCore

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
        for (name, template) in Templates.adminOps { try! library.register(template, named: name) }
        for (name, template) in Templates.sync { try! library.register(template, named: name) }
        for (name, template) in Templates.incidents { try! library.register(template, named: name) }
        for (name, template) in Templates.integrations { try! library.register(template, named: name) }
        for (name, template) in Templates.oauth { try! library.register(template, named: name) }
        // The ways to sign in besides a password, and a person's identities and sessions; one list per method.
        for (name, template) in Templates.singleSignOn { try! library.register(template, named: name) }
        for (name, template) in Templates.passkeys { try! library.register(template, named: name) }
        for (name, template) in Templates.emailCodes { try! library.register(template, named: name) }
        for (name, template) in Templates.linking { try! library.register(template, named: name) }
        for (name, template) in Templates.security { try! library.register(template, named: name) }
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
            layout["chrome"] = chrome.renderContext
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
        :root { color-scheme: light dark;
          --bg: #f6f7f9; --surface: #fff; --text: #111827; --muted: #4b5563; --border: #d1d5db; --control: #6b7280;
          --accent: #3b5bdb; --link: #3b5bdb; --focus: #1d4ed8; --code: #f3f4f6; --danger: #b91c1c;
          --ok-bg: #ecfdf5; --ok-fg: #065f46; --ok-line: #a7f3d0; --bad-bg: #fef2f2; --bad-fg: #991b1b; --bad-line: #fecaca;
          --warn-bg: #fef3c7; --warn-fg: #92400e; --badge-bg: #e0e7ff; --badge-fg: #3730a3; }
        @media (prefers-color-scheme: dark) { :root {
          --bg: #0f1115; --surface: #181b21; --text: #e5e7eb; --muted: #9ca3af; --border: #374151; --control: #7c8594;
          --accent: #3b5bdb; --link: #a5b4fc; --focus: #93c5fd; --code: #262a33; --danger: #b91c1c;
          --ok-bg: #052e22; --ok-fg: #a7f3d0; --ok-line: #065f46; --bad-bg: #3f1215; --bad-fg: #fecaca; --bad-line: #7f1d1d;
          --warn-bg: #78350f; --warn-fg: #fef3c7; --badge-bg: #312e81; --badge-fg: #e0e7ff; } }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
        a { color: var(--link); }
        :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
        header { position: relative; background: #111827; color: #fff; padding: 0.75rem 1.5rem; display: flex; align-items: center; gap: 0.5rem 1rem; flex-wrap: wrap; }
        header :focus-visible { outline-color: #93c5fd; }
        header a { color: #fff; text-decoration: none; }
        header a.brand { font-weight: 650; letter-spacing: 0.01em; display: inline-flex; align-items: center; gap: 0.5rem; }
        .mark { width: 1.1rem; height: 1.1rem; border-radius: 4px; background: linear-gradient(135deg, #5c7cfa, #3b5bdb); box-shadow: inset 0 0 0 3px #111827, inset 0 0 0 5px #91a7ff; }
        header nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 0.9rem; }
        header nav a { font-weight: 500; display: inline-block; padding: 0.2rem 0; border-bottom: 2px solid transparent; }
        header nav a:hover { border-bottom-color: #9ca3af; }
        header nav a[aria-current] { border-bottom-color: #91a7ff; font-weight: 650; }
        header > nav { margin-left: auto; }
        .account { display: flex; align-items: center; gap: 0.75rem; }
        .account form { margin: 0; }
        header button, header summary { margin: 0; padding: 0.35rem 0.8rem; background: transparent; color: #fff; border: 1px solid #9ca3af; border-radius: 8px; font: inherit; font-weight: 500; cursor: pointer; }
        .who { color: #d1d5db; font-size: 0.9rem; }
        .menu { display: none; margin-left: auto; }
        .menu summary { list-style: none; }
        .menu summary::-webkit-details-marker { display: none; }
        .menu summary::after { content: " ▾"; }
        .menu[open] summary::after { content: " ▴"; }
        .menu nav { position: absolute; left: 0; right: 0; top: 100%; z-index: 10; background: #111827; padding: 0.5rem 1.5rem 1rem; border-top: 1px solid #374151; }
        .menu nav ul { display: block; }
        .menu nav a { display: block; padding: 0.6rem 0.75rem; border-bottom: 0; border-left: 3px solid transparent; }
        .menu nav a[aria-current] { border-left-color: #91a7ff; }
        .menu .who { margin: 0.25rem 0.75rem 0.5rem; }
        @media (max-width: 64rem) {
          header > nav, .account .who { display: none; }
          .menu { display: block; }
        }
        main { max-width: 34rem; margin: 2.5rem auto; padding: 0 1rem; overflow-wrap: anywhere; }
        main.wide { max-width: 56rem; }
        .preview { margin-bottom: 1rem; }
        .scroll { overflow-x: auto; }
        .actions select { width: auto; margin-top: 0.75rem; }
        .flash { background: var(--ok-bg); color: var(--ok-fg); border: 1px solid var(--ok-line); border-radius: 8px; padding: 0.75rem 1rem; margin-bottom: 1.25rem; }
        .grid { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
        .list { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem; }
        .tile { background: var(--surface); border: 1px solid var(--border); border-radius: 12px; padding: 1.1rem 1.25rem; }
        .tile h3 { margin: 0 0 0.35rem; font-size: 1.05rem; display: flex; align-items: center; gap: 0.5rem; }
        .badge { display: inline-flex; width: 1.6rem; height: 1.6rem; border-radius: 6px; align-items: center; justify-content: center;
          background: var(--badge-bg); color: var(--badge-fg); font-weight: 700; font-size: 0.85rem; }
        .perm { margin: 0.25rem 0 0; padding-left: 1.1rem; color: var(--muted); font-size: 0.9rem; }
        .meta { color: var(--muted); font-size: 0.9rem; margin: 0.2rem 0; }
        .status { display: inline-block; border-radius: 999px; padding: 0.05rem 0.6rem; font-size: 0.8rem; font-weight: 600; background: var(--ok-bg); color: var(--ok-fg); }
        .status.warn { background: var(--warn-bg); color: var(--warn-fg); }
        .actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
        .actions form { margin: 0; }
        .actions button, .actions .button { margin-top: 0.75rem; }
        button.secondary, .button.secondary { background: transparent; color: var(--link); border: 1px solid var(--link); }
        button.danger, .button.danger { background: var(--danger); color: #fff; border: 0; }
        h2 { font-size: 1.15rem; margin: 2rem 0 0.75rem; }
        table { width: 100%; border-collapse: collapse; font-size: 0.95rem; }
        th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--border); vertical-align: top; }
        @media (max-width: 40rem) {
          table, tbody, tr, td { display: block; width: 100%; }
          thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
          tr { border: 1px solid var(--border); border-radius: 8px; padding: 0.4rem 0.75rem; margin-bottom: 0.75rem; background: var(--surface); }
          td { border: 0; padding: 0.2rem 0; }
          td[data-label]::before { content: attr(data-label); display: block; color: var(--muted); font-size: 0.8rem; font-weight: 600; }
          td[data-label=""]::before { content: none; }
        }
        select, textarea, input { width: 100%; padding: 0.6rem 0.7rem; border: 1px solid var(--control); border-radius: 8px; font: inherit; background: var(--surface); color: var(--text); }
        input[type=checkbox], input[type=radio] { width: auto; accent-color: var(--accent); }
        .card { background: var(--surface); border: 1px solid var(--border); border-radius: 12px; padding: 1.75rem; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
        @media (max-width: 30rem) { .card { padding: 1.25rem 1rem; } header { padding: 0.75rem 1rem; } .menu nav { padding: 0.5rem 1rem 1rem; } }
        h1 { font-size: 1.4rem; margin: 0 0 0.75rem; }
        p { margin: 0.5rem 0 1rem; }
        label { display: block; font-weight: 600; margin: 1rem 0 0.25rem; }
        fieldset { border: 1px solid var(--border); border-radius: 8px; margin: 1rem 0; }
        .hint { color: var(--muted); font-size: 0.875rem; font-weight: 400; }
        input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
        button, .button { display: inline-block; margin-top: 1.25rem; background: var(--accent); color: #fff; border: 1px solid var(--accent); border-radius: 8px;
          padding: 0.65rem 1.1rem; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
        [hidden] { display: none !important; }
        .error { background: var(--bad-bg); color: var(--bad-fg); border: 1px solid var(--bad-line); border-radius: 8px; padding: 0.75rem 1rem; }
        .error a, .flash a { color: inherit; }
        code, pre { font-family: ui-monospace, monospace; background: var(--code); color: var(--text); border-radius: 4px; padding: 0.05rem 0.3rem; }
        pre { padding: 0.75rem; overflow-x: auto; white-space: pre-wrap; }
        .secret { font-family: ui-monospace, monospace; word-break: break-all; background: var(--code); color: var(--text); padding: 0.75rem; border-radius: 8px; }
        footer { text-align: center; color: var(--muted); font-size: 0.8rem; margin: 2rem 0; }
        /* Connection Center */
        .grid.accounts { grid-template-columns: repeat(auto-fill, minmax(min(100%, 22rem), 1fr)); }
        .grid.services > li, .grid.accounts > li { display: flex; flex-direction: column; min-width: 0; }
        .tile .tile-end { margin-top: auto; }
        .tile .account, .tile h3 { overflow-wrap: anywhere; }
        .label-form { margin-top: 0.5rem; }
        .label-form label { margin-top: 0.5rem; }
        .label-form input[aria-invalid="true"] { border-color: #b91c1c; }
        .field-error { color: #b91c1c; font-size: 0.9rem; margin: 0.25rem 0 0; }
        @media (prefers-color-scheme: dark) { .field-error { color: #fca5a5; } }
        .button.danger { background: #b91c1c; color: #fff; }
        main[data-read-only] form[method="post"]:not(.reads), main[data-read-only] a.button.danger { display: none; }
        </style>
        </head>
        <body>
        <header><a class="brand" href="/"><span class="mark" aria-hidden="true"></span>Latchkey</a>
        {{#chrome}}<nav aria-label="Main"><ul>{{#nav}}<li><a href="{{href}}"{{#current}} aria-current="{{current}}"{{/current}}>{{label}}</a></li>{{/nav}}</ul></nav>
        <details class="menu"><summary>Menu</summary><nav aria-label="Main menu"><p class="who">Signed in as {{userName}}</p>
        <ul>{{#nav}}<li><a href="{{href}}"{{#current}} aria-current="{{current}}"{{/current}}>{{label}}</a></li>{{/nav}}</ul></nav></details>
        <div class="account"><span class="who">{{userName}}</span>
        <form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" id="sign-out">Sign out</button></form></div>{{/chrome}}
        </header>
        <main{{#wide}} class="wide"{{/wide}}{{#chrome}}{{#readOnly}} data-read-only{{/readOnly}}{{/chrome}}>
        {{#chrome}}{{#readOnly}}<p class="flash" role="note" id="read-only">You are an auditor: you can read everything here and change nothing.</p>{{/readOnly}}{{/chrome}}
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
        <input id="email" name="email" type="email" autocomplete="username" required autofocus value="{{email}}">
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
