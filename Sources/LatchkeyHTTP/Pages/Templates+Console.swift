extension Templates {
    /// The console's pages, by name.
    static let console: [(String, String)] = [
        ("login", login),
        ("connections", connections),
        ("connect-form", connectForm),
        ("connect-failed", connectFailed),
        ("connect-continue", connectContinue),
        ("admin-users", adminUsers),
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
        <tr class="connection-health" data-connection-id="{{id}}" data-integration="{{integration}}"><td>{{name}}</td>
        <td><span class="status{{#problem}} warn{{/problem}}">{{health}}</span></td><td>{{active}}</td><td>{{needsReauth}}</td><td>{{expired}}</td><td>{{reasons}}</td></tr>
        {{/connections}}
        </tbody>
        </table>
        """

    static let login = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Sign in</h1>
        <p>Sign in to connect your accounts and see what is connected.</p>
        {{#notice}}<div class="flash signed-out" role="status">{{notice}}</div>{{/notice}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/login">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="submit" id="sign-in">Sign in</button>
        </form>
        </section>
        """

    static let connections = """
        <h1 id="heading">Your connections</h1>
        <p class="meta">Services you connect here can be used on your behalf by the tools and agents you allow. Your tokens stay in this vault.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#returning}}<div class="returning" role="note">{{returning}}</div>{{/returning}}
        <section aria-labelledby="connected-heading">
        <h2 id="connected-heading">Connected accounts</h2>
        {{^connections}}<p class="meta" id="no-connections">Nothing is connected yet. Pick a service below.</p>{{/connections}}
        <ul class="list">
        {{#connections}}
        <li class="connection tile" data-credential-id="{{id}}" data-integration="{{integration}}">
        <h3><span class="badge" aria-hidden="true">{{initial}}</span>{{service}}</h3>
        <p class="meta">Account: <span class="account">{{account}}</span>{{#label}} · {{label}}{{/label}}{{#isDefault}} · default{{/isDefault}}</p>
        <p class="meta">Connected <time datetime="{{connectedISO}}">{{connectedDate}}</time> · Status: <span class="status{{#problem}} warn{{/problem}}">{{statusText}}</span></p>
        {{#hasPermissions}}<p class="meta">Allowed to:</p><ul class="perm">{{#permissions}}<li>{{.}}</li>{{/permissions}}</ul>{{/hasPermissions}}
        {{#hasWanted}}<div class="error wanted-scopes" role="alert">A tool needs more permissions on this account. Reconnect and also allow it to:
        <ul class="perm">{{#wanted}}<li>{{.}}</li>{{/wanted}}</ul>
        <form method="post" action="/connections/{{id}}/reconnect"><input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="scopes" value="{{wantedScopes}}"><button type="submit" id="reconnect-wider">Reconnect and allow</button></form></div>{{/hasWanted}}
        <div class="actions">
        <form method="post" action="/connections/{{id}}/reconnect"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary">Reconnect</button></form>
        <form method="post" action="/connections/{{id}}/disconnect"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary">Disconnect</button></form>
        </div>
        {{#hasTools}}<form method="post" action="/connections/{{id}}/tools" class="try-tool"><input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="tool-{{id}}">Try a tool on this account</label>
        <select id="tool-{{id}}" name="tool">{{#tools}}<option value="{{name}}">{{title}}</option>{{/tools}}</select>
        <button type="submit" class="secondary">Call the tool</button></form>{{/hasTools}}
        </li>
        {{/connections}}
        </ul>
        </section>
        <section aria-labelledby="available-heading">
        <h2 id="available-heading">Available services</h2>
        {{^services}}<p class="meta">No services are enabled yet. An administrator enables them under Integrations.</p>{{/services}}
        <ul class="grid">
        {{#services}}
        <li class="service tile" data-integration="{{key}}">
        <h3><span class="badge" aria-hidden="true">{{initial}}</span>{{name}}</h3>
        <p class="meta">{{summary}}</p>
        {{#hasPermissions}}<ul class="perm">{{#permissions}}<li>{{.}}</li>{{/permissions}}</ul>{{/hasPermissions}}
        <form method="post" action="/connections/{{key}}/connect"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit">Connect {{name}}</button></form>
        </li>
        {{/services}}
        </ul>
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

    static let adminUsers = """
        <h1 id="heading">Users</h1>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <table>
        <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th></tr></thead>
        <tbody>{{#users}}<tr><td>{{email}}</td><td>{{name}}</td><td>{{#admin}}Administrator{{/admin}}{{^admin}}Member{{/admin}}</td></tr>{{/users}}</tbody>
        </table>
        <h2 id="add-heading">Add a user</h2>
        <form method="post" action="/admin/users" class="tile" aria-labelledby="add-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" required>
        <label for="name">Name</label>
        <input id="name" name="name" type="text" required>
        <label for="password">Initial password <span class="hint">(at least 12 characters; share it privately)</span></label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
        <label for="admin"><input id="admin" name="admin" type="checkbox" value="1" style="width:auto"> Administrator</label>
        <button type="submit">Add user</button>
        </form>
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
