extension Templates {
    /// The console's pages, by name.
    static let console: [(String, String)] = [
        ("login", login),
        ("connections", connections),
        ("connection-disconnect", connectionDisconnect),
        ("connect-form", connectForm),
        ("connect-failed", connectFailed),
        ("connect-continue", connectContinue),
        ("sandbox-consent", sandboxConsent),
        ("admin-connections", adminConnections),
        ("tool-result", toolResult),
    ]

    static let adminConnections = """
        <h1 id="heading">Connections and health</h1>
        <p class="meta">Each service's connection with how its accounts are doing. Details per account are in the API (<code>GET /api/v1/connections</code>).</p>
        {{#alerts}}<div class="error misconfigured" role="alert">{{.}}</div>{{/alerts}}
        {{^connections}}<p class="meta">No connections yet.</p>{{/connections}}
        <table>
        <thead><tr><th scope="col">Service</th><th scope="col">Health</th><th scope="col">Connected</th><th scope="col">Please reconnect</th><th scope="col">Expired</th><th scope="col">Why</th></tr></thead>
        <tbody>
        {{#connections}}
        <tr class="connection-health" data-connection-id="{{id}}" data-integration="{{integration}}"><td data-label="Service"><a href="/admin/connections/{{id}}">{{name}}</a></td>
        <td data-label="Health"><span class="status{{#problem}} warn{{/problem}}">{{health}}</span></td><td data-label="Connected">{{active}}</td><td data-label="Please reconnect">{{needsReauth}}</td><td data-label="Expired">{{expired}}</td><td data-label="Why">{{reasons}}</td></tr>
        {{/connections}}
        </tbody>
        </table>
        """

    static let login = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Sign in{{#tenantName}} to {{tenantName}}{{/tenantName}}</h1>
        <p>Sign in to connect your accounts and see what is connected.</p>
        {{#notice}}<div class="flash signed-out" role="status">{{notice}}</div>{{/notice}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/login">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        {{#tenant}}<input type="hidden" name="tenant" value="{{tenant}}">{{/tenant}}
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required autofocus value="{{email}}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="submit" id="sign-in">Sign in</button>
        </form>
        {{> login-passkey}}
        {{> login-single-sign-on}}
        {{> login-email-code}}
        </section>
        """

    static let connectForm = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Connect {{name}}</h1>
        <p>{{intro}}</p>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/connections/{{key}}/connect">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        {{#reconnect}}<input type="hidden" name="reconnect" value="{{reconnect}}">{{/reconnect}}
        {{#fields}}
        <label for="{{name}}">{{label}}{{#hint}} <span class="hint">({{hint}})</span>{{/hint}}</label>
        <input id="{{name}}" name="{{name}}" type="{{type}}" autocomplete="off" required value="{{value}}">
        {{/fields}}
        <button type="submit">Connect {{name}}</button>
        </form>
        <p><a href="/connections">Back to your connections</a></p>
        </section>
        """

    static let connectFailed = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">{{heading}}</h1>
        <div class="error" role="alert">{{message}}</div>
        {{#retryKey}}<form method="post" action="/connections/{{retryKey}}/connect"><input type="hidden" name="csrf_token" value="{{csrf}}">{{#reconnect}}<input type="hidden" name="reconnect" value="{{reconnect}}">{{/reconnect}}<button type="submit" id="try-again">Try again</button></form>{{/retryKey}}
        <p><a href="/connections">Back to your connections</a></p>
        </section>
        """

    /// On the way to a provider that the page which sent the form could not name in its policy.
    static let connectContinue = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Continue to sign in</h1>
        <p>You are being taken to the service to sign in and choose what to allow. If nothing happens, use the button.</p>
        <a class="button" id="continue" href="{{url}}">Continue</a>
        <p><a href="/connections">Back to your connections</a></p>
        </section>
        """

    static let sandboxConsent = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Sandbox: allow access?</h1>
        <p><strong>{{client}}</strong> wants to use your sandbox account. This is the built-in demo provider; nothing real is shared.</p>
        {{#hasScopes}}<p>It asks to:</p><ul class="perm">{{#scopes}}<li>{{.}}</li>{{/scopes}}</ul>{{/hasScopes}}
        <form method="post" action="/sandbox/authorize">
        {{#params}}<input type="hidden" name="{{name}}" value="{{value}}">{{/params}}
        <label for="account">Sandbox account <span class="hint">(any address; each one is a separate account)</span></label>
        <input id="account" name="account" type="text" value="{{account}}">
        <div class="actions">
        <button type="submit" name="decision" value="allow" id="allow">Allow</button>
        <button type="submit" name="decision" value="deny" id="deny" class="secondary">Deny</button>
        </div>
        </form>
        </section>
        """
}
