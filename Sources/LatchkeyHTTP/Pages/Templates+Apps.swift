extension Templates {
    /// The console's Apps pages (`/admin/apps`), by name.
    static let apps: [(String, String)] = [
        ("admin-apps", adminApps),
        ("admin-app", adminApp),
        ("admin-app-key", adminAppKey),
        ("admin-app-confirm", adminAppConfirm),
    ]

    static let adminApps = """
        <h1 id="heading">Apps</h1>
        <p class="meta">Programs that act for their own users. Each has an <code>lk_app_…</code> key that reaches only its own users' tokens.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Key</th><th scope="col">End users</th></tr></thead>
        <tbody>
        {{#apps}}
        <tr class="app" data-app-id="{{id}}"><td data-label="Name"><a href="/admin/apps/{{id}}">{{name}}</a>{{#console}} <span class="hint">(the web console)</span>{{/console}}</td>
        <td data-label="Status"><span class="status{{#disabled}} warn{{/disabled}}">{{status}}</span></td><td data-label="Key"><code>{{keyPrefix}}</code></td><td data-label="End users">{{endUsers}}</td></tr>
        {{/apps}}
        </tbody>
        </table></div>
        <h2 id="add-heading">Create an app</h2>
        <form method="post" action="/admin/apps" class="tile" aria-labelledby="add-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="name">Name</label>
        <input id="name" name="name" type="text" maxlength="100" required value="{{form.name}}">
        <label for="description">Description <span class="hint">(optional)</span></label>
        <input id="description" name="description" type="text" maxlength="500" value="{{form.description}}">
        <label for="displayName">Name shown to its users <span class="hint">(optional; the name above otherwise)</span></label>
        <input id="displayName" name="displayName" type="text" maxlength="100" value="{{form.displayName}}">
        <label for="accentColor">Accent colour <span class="hint">(#rrggbb, optional)</span></label>
        <input id="accentColor" name="accentColor" type="text" pattern="#[0-9a-fA-F]{6}" value="{{form.accentColor}}">
        <label for="logoUrl">Logo URL <span class="hint">(https, optional)</span></label>
        <input id="logoUrl" name="logoUrl" type="url" value="{{form.logoUrl}}">
        <label for="privacyUrl">Privacy policy URL <span class="hint">(https, optional)</span></label>
        <input id="privacyUrl" name="privacyUrl" type="url" value="{{form.privacyUrl}}">
        <label for="origins">Allowed redirect origins <span class="hint">(one per line, such as https://app.example.com)</span></label>
        <textarea id="origins" name="origins" rows="3">{{form.origins}}</textarea>
        <button type="submit" id="create-app">Create app</button>
        </form>
        """

    /// The key, shown once in the answer to the form that made it.
    static let adminAppKey = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">{{heading}}</h1>
        <p>The key of <strong>{{name}}</strong> is shown <strong>only this once</strong>. Store it in your app's secret settings now; it cannot be shown again (you can regenerate it).</p>
        <p class="secret" id="app-key">{{apiKey}}</p>
        <button type="button" id="copy-key" data-copy="app-key" class="secondary" hidden>Copy key</button>
        <p class="hint">Try it: <code>curl -X POST -H "Authorization: Bearer &lt;key&gt;" {{publicURL}}/api/v1/connect/sessions</code></p>
        <a class="button" href="/admin/apps/{{id}}" id="continue">Continue to the app</a>
        </section>
        <script src="/assets/console.js"></script>
        """

    /// A confirmation step before regenerating a key or deleting an app.
    static let adminAppConfirm = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">{{heading}}</h1>
        <p>{{message}}</p>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="confirm"><input id="confirm" name="confirm" type="checkbox" value="yes" required style="width:auto"> {{check}}</label>
        <button type="submit" id="confirm-button">{{button}}</button>
        </form>
        <p><a href="/admin/apps/{{id}}">Cancel</a></p>
        </section>
        """

    static let adminApp = """
        <p class="meta"><a href="/admin/apps">Apps</a></p>
        <h1 id="heading">{{app.name}}</h1>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <p class="meta">Status: <span class="status{{#app.disabled}} warn{{/app.disabled}}" id="app-status">{{app.status}}</span>
        {{#app.keyPrefix}} · Key <code id="key-prefix">{{app.keyPrefix}}…</code>{{/app.keyPrefix}}</p>
        {{#app.console}}<p class="meta">This is the web console's own app: people who connect in the console and admin keys act through it. It has no key of its own and cannot be disabled or deleted.</p>{{/app.console}}
        {{^app.console}}<p><a class="button secondary" href="/admin/apps/{{app.id}}/regenerate" id="regenerate">Regenerate key</a></p>{{/app.console}}

        <h2 id="settings-heading">Settings and branding</h2>
        <div class="preview tile" id="branding-preview" aria-label="Branding preview" style="border-top: 6px solid {{preview.accent}}">
        <p class="meta">Preview of the hosted connect page</p>
        <p class="meta"><span class="badge" style="background: {{preview.accent}}; color: #fff">{{preview.initial}}</span> <span id="preview-name">{{preview.name}}</span></p>
        <h3>Connect a service to {{preview.name}}</h3>
        <span class="button" id="preview-button" style="background: {{preview.accent}}">Connect</span>
        {{#preview.logo}}<p class="meta">Logo: <code id="preview-logo">{{preview.logo}}</code> (shown on the connect page; the console does not load images)</p>{{/preview.logo}}
        {{#preview.privacy}}<p class="meta">Privacy link: <code>{{preview.privacy}}</code></p>{{/preview.privacy}}
        </div>
        <form method="post" action="/admin/apps/{{app.id}}" class="tile" aria-labelledby="settings-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="name">Name</label>
        <input id="name" name="name" type="text" maxlength="100" required value="{{form.name}}">
        <label for="description">Description</label>
        <input id="description" name="description" type="text" maxlength="500" value="{{form.description}}">
        {{^app.console}}<label for="status">Status</label>
        <select id="status" name="status"><option value="active"{{#form.active}} selected{{/form.active}}>Active</option><option value="disabled"{{^form.active}} selected{{/form.active}}>Disabled (its key stops working)</option></select>{{/app.console}}
        <label for="displayName">Name shown to its users</label>
        <input id="displayName" name="displayName" type="text" maxlength="100" value="{{form.displayName}}">
        <label for="accentColor">Accent colour <span class="hint">(#rrggbb)</span></label>
        <input id="accentColor" name="accentColor" type="text" value="{{form.accentColor}}">
        <label for="logoUrl">Logo URL <span class="hint">(https)</span></label>
        <input id="logoUrl" name="logoUrl" type="text" value="{{form.logoUrl}}">
        <label for="privacyUrl">Privacy policy URL <span class="hint">(https)</span></label>
        <input id="privacyUrl" name="privacyUrl" type="text" value="{{form.privacyUrl}}">
        <label for="origins">Allowed redirect origins <span class="hint">(one per line)</span></label>
        <textarea id="origins" name="origins" rows="3">{{form.origins}}</textarea>
        <button type="submit" id="save-app">Save</button>
        </form>

        <h2 id="oauth-heading">OAuth clients of this app</h2>
        <p class="meta">Credentials connected through this app use its own client for a service when one is set here, else the integration's. Secrets are stored encrypted and never shown.</p>
        {{^configs}}<p class="meta">No OAuth integrations yet. Add one under Integrations.</p>{{/configs}}
        {{#configs}}
        <form method="post" action="/admin/apps/{{appID}}/integrations/{{key}}/config" class="tile app-config" data-integration="{{key}}">
        <h3>{{name}}</h3>
        <p class="meta">Client secret: <span class="secret-state">{{#hasSecret}}set{{/hasSecret}}{{^hasSecret}}not set{{/hasSecret}}</span>{{^configured}} · uses the integration's client{{/configured}}</p>
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="clientId-{{key}}">Client id</label>
        <input id="clientId-{{key}}" name="clientId" type="text" autocomplete="off" value="{{clientID}}">
        <label for="clientSecret-{{key}}">Client secret <span class="hint">(leave empty to keep the stored one)</span></label>
        <input id="clientSecret-{{key}}" name="clientSecret" type="password" autocomplete="new-password">
        <div role="group" aria-label="The stored secret of {{name}}"><label for="clearSecret-{{key}}"><input id="clearSecret-{{key}}" name="clearSecret" type="checkbox" value="yes" style="width:auto"> Remove the stored secret</label></div>
        <label for="scopes-{{key}}">Scopes <span class="hint">(space separated; empty for the integration's)</span></label>
        <input id="scopes-{{key}}" name="scopes" type="text" value="{{scopes}}">
        <div class="actions"><button type="submit">Save client</button>
        {{#configured}}<button type="submit" class="secondary" formaction="/admin/apps/{{appID}}/integrations/{{key}}/config/delete">Use the integration's client</button>{{/configured}}</div>
        </form>
        {{/configs}}

        <h2 id="connections-heading">Connections</h2>
        <p class="meta">One per service this app uses. A shared credential (a bot or org-wide token) serves every end user who has not connected their own.</p>
        {{^connections}}<p class="meta">No connections yet.</p>{{/connections}}
        {{#connections}}
        <div class="tile app-connection" data-connection-id="{{id}}" data-integration="{{integration}}">
        <h3>{{name}} <span class="status{{#problem}} warn{{/problem}}">{{health}}</span></h3>
        <p class="meta">End users' credentials: {{active}} active · {{expired}} expired · {{needsReauth}} need re-auth</p>
        {{#rate}}<p class="meta rate-limit">Rate limit: {{budget}} calls per {{windowSeconds}} s ({{source}}) · this window: {{used}} calls, {{throttled}} refused{{#nearLimit}} · <strong>near the limit</strong>{{/nearLimit}}</p>
        <details><summary>Change the rate limit</summary>
        <form method="post" action="/admin/apps/{{appID}}/connections/{{id}}/rate-limit">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="budget-{{id}}">Calls per window <span class="hint">(empty: the service's default)</span></label>
        <input id="budget-{{id}}" name="budget" type="number" min="1" max="1000000" value="{{ownBudget}}">
        <label for="window-{{id}}">Window in seconds</label>
        <input id="window-{{id}}" name="windowSeconds" type="number" min="1" max="86400" value="{{windowSeconds}}">
        <button type="submit">Save rate limit</button>
        </form></details>{{/rate}}
        <p class="meta shared">Shared credential: {{#shared}}<span class="shared-account">{{account}}</span> ({{status}}){{/shared}}{{^shared}}none{{/shared}}</p>
        {{#oauth}}<form method="post" action="/admin/apps/{{appID}}/connections/{{id}}/connect-shared"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="connect-shared">Connect shared account</button></form>{{/oauth}}
        <details><summary>Import a shared key or token</summary>
        <form method="post" action="/admin/apps/{{appID}}/connections/{{id}}/import">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="type-{{id}}">Kind</label>
        <select id="type-{{id}}" name="type"><option value="api_key">API key</option><option value="bearer">Bearer token</option></select>
        <label for="secret-{{id}}">Key or token</label>
        <input id="secret-{{id}}" name="secret" type="password" autocomplete="new-password" required>
        <label for="label-{{id}}">Label <span class="hint">(optional)</span></label>
        <input id="label-{{id}}" name="label" type="text" maxlength="200">
        <button type="submit">Import shared credential</button>
        </form></details>
        </div>
        {{/connections}}
        {{#hasIntegrations}}
        <form method="post" action="/admin/apps/{{app.id}}/connections" class="actions">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <select name="integration" aria-label="Service">{{#integrations}}<option value="{{key}}">{{name}}</option>{{/integrations}}</select>
        <button type="submit" id="add-connection" class="secondary">Add connection</button>
        </form>
        {{/hasIntegrations}}

        <h2 id="end-users-heading">End users</h2>
        {{^endUsers}}<p class="meta">No end users yet. They appear when the app creates a connect session for them.</p>{{/endUsers}}
        {{#hasEndUsers}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">External id</th><th scope="col">Name</th><th scope="col">Active</th><th scope="col">Expired</th><th scope="col">Needs re-auth</th></tr></thead>
        <tbody>
        {{#endUsers}}<tr class="end-user" data-external-id="{{externalID}}"><td data-label="External id">{{externalID}}</td><td data-label="Name">{{name}}</td><td class="n-active" data-label="Active">{{active}}</td><td class="n-expired" data-label="Expired">{{expired}}</td><td class="n-reauth" data-label="Needs re-auth">{{needsReauth}}</td></tr>{{/endUsers}}
        </tbody>
        </table></div>
        {{/hasEndUsers}}
        {{#next}}<p><a href="/admin/apps/{{app.id}}?cursor={{next}}" id="more-end-users">More end users</a></p>{{/next}}

        <h2 id="delete-heading">Delete</h2>
        {{#app.console}}<p class="meta">The console app cannot be deleted: the web console and admin keys act through it.</p>{{/app.console}}
        {{^app.console}}<p class="meta">Deleting removes its end users and their credentials (revoked at the providers where possible) and stops its key.</p>
        <p><a class="button secondary" href="/admin/apps/{{app.id}}/delete" id="delete-app">Delete this app</a></p>{{/app.console}}
        """
}
