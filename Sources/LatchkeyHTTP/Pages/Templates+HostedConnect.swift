extension Templates {
    /// The hosted connect page of apps (`/connect/{token}`), by name. No sign-in; the app's branding.
    static let hostedConnect: [(String, String)] = [
        ("hosted-connect", hostedConnectPage),
        ("hosted-connect-done", hostedConnectDone),
    ]

    static let hostedConnectPage = """
        <section class="card hosted" aria-labelledby="heading" style="--accent: {{accent}}">
        <p class="meta">{{#logo}}<img class="logo" src="{{logo}}" alt="" width="32" height="32" style="vertical-align: middle; border-radius: 6px">{{/logo}}{{^logo}}<span class="badge">{{initial}}</span>{{/logo}} {{appName}}</p>
        <h1 id="heading">Connect {{service}} to {{appName}}</h1>
        <p>{{summary}}</p>
        {{#hasPermissions}}<p>{{appName}} asks to:</p><ul class="perm" id="permissions">{{#permissions}}<li>{{.}}</li>{{/permissions}}</ul>{{/hasPermissions}}
        {{#message}}<div class="error" role="alert">{{message}}</div>{{/message}}
        <form method="post" action="/connect/{{token}}">
        {{#fields}}
        <label for="{{name}}">{{label}}{{#hint}} <span class="hint">({{hint}})</span>{{/hint}}</label>
        <input id="{{name}}" name="{{name}}" type="{{type}}" autocomplete="off" required value="{{value}}">
        {{/fields}}
        <button type="submit" id="connect" style="background: var(--accent)">{{button}}</button>
        </form>
        {{#giveUp}}<p><a id="give-up" href="{{giveUp}}">Return to {{appName}} without connecting</a></p>{{/giveUp}}
        <p class="meta">Latchkey keeps your {{service}} access encrypted for {{appName}}; you can disconnect it from {{appName}} at any time.{{#privacy}} <a id="privacy" href="{{privacy}}" rel="noopener noreferrer">{{appName}}'s privacy policy</a>{{/privacy}}</p>
        </section>
        """

    static let hostedConnectDone = """
        <section class="card hosted" aria-labelledby="heading" style="--accent: {{accent}}">
        <p class="meta">{{#logo}}<img class="logo" src="{{logo}}" alt="" width="32" height="32" style="vertical-align: middle; border-radius: 6px">{{/logo}}{{^logo}}<span class="badge">{{initial}}</span>{{/logo}} {{appName}}</p>
        <h1 id="heading">{{heading}}</h1>
        {{#succeeded}}<p class="flash" role="status" id="result">{{message}}</p>{{/succeeded}}
        {{^succeeded}}<div class="error" role="alert" id="result">{{message}}</div>{{/succeeded}}
        <p>You can close this window{{#appName}} and go back to {{appName}}{{/appName}}.</p>
        </section>
        <div id="lk-result" hidden data-session-id="{{sessionId}}" data-status="{{status}}" data-error="{{error}}" data-origins="{{origins}}"></div>
        <script src="/connect.js"></script>
        """
}
