extension Templates {
    /// Incident response: revoke credentials in bulk, force a refresh, stop keys.
    static let incidents: [(String, String)] = [
        ("admin-incidents", adminIncidents),
        ("admin-incident-confirm", adminIncidentConfirm),
        ("admin-incident-job", adminIncidentJob),
    ]

    static let adminIncidents = """
        <h1 id="heading">Incident response</h1>
        <p class="meta">When a provider, an app or this server may be compromised: revoke the credentials it holds, get new tokens, stop a key. Every action is recorded in the audit log.</p>
        {{#flash}}<div class="flash" role="status" id="flash">{{flash}}</div>{{/flash}}
        {{#error}}<div class="error" role="alert" id="incident-error">{{error}}</div>{{/error}}
        <section class="card" aria-labelledby="revoke-heading">
        <h2 id="revoke-heading">Revoke credentials</h2>
        <p>Each credential is revoked at its provider, then deleted here; the people and apps concerned must connect again. You see what it covers, and type a phrase to confirm, before anything happens.</p>
        <form method="post" action="/admin/incidents/revoke/preview">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <fieldset><legend>What to revoke</legend>
        <div><input type="radio" id="scope-integration" name="scope" value="integration" checked> <label for="scope-integration">Every credential of one integration</label></div>
        <div><input type="radio" id="scope-app" name="scope" value="app"> <label for="scope-app">Every credential of one app</label></div>
        <div><input type="radio" id="scope-tenant" name="scope" value="tenant"> <label for="scope-tenant">Every credential of this tenant</label></div>
        </fieldset>
        <label for="revoke-integration">Integration <span class="hint">(for the first choice)</span></label>
        <select id="revoke-integration" name="integration">{{#integrations}}<option value="{{key}}">{{key}}</option>{{/integrations}}</select>
        <label for="revoke-app">App <span class="hint">(for the second choice)</span></label>
        <select id="revoke-app" name="app">{{#apps}}<option value="{{id}}">{{name}}</option>{{/apps}}</select>
        <button type="submit" id="preview-revoke">Show what would be revoked</button>
        </form>
        </section>
        <section class="card" aria-labelledby="refresh-heading">
        <h2 id="refresh-heading">Refresh an integration's tokens</h2>
        <p>Asks the provider for a new access token for every OAuth credential of the integration now, whatever its expiry.</p>
        {{#hasIntegrations}}<form method="post" action="/admin/incidents/refresh">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="refresh-integration">Integration</label>
        <select id="refresh-integration" name="integration">{{#integrations}}<option value="{{key}}">{{key}}</option>{{/integrations}}</select>
        <button type="submit" class="secondary" id="refresh-all">Refresh now</button>
        </form>{{/hasIntegrations}}
        {{^hasIntegrations}}<p class="meta">No integrations yet.</p>{{/hasIntegrations}}
        </section>
        <section class="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Stop a key</h2>
        <p>The key is refused from its next request, on every instance.</p>
        <h3>Admin API keys</h3>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Last used</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#adminKeys}}<tr class="incident-admin-key" data-key-id="{{id}}"><td data-label="Name">{{name}}</td><td data-label="Starts with"><code>{{prefix}}…</code></td><td data-label="Last used">{{lastUsed}}</td>
        <td data-label="Action"><form method="post" action="/admin/incidents/admin-keys/{{id}}/revoke"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger" id="revoke-key-{{id}}">Revoke now</button></form></td></tr>{{/adminKeys}}
        </tbody>
        </table></div>
        {{^adminKeys}}<p class="meta">No active admin keys.</p>{{/adminKeys}}
        <h3>App keys</h3>
        <div class="scroll"><table>
        <thead><tr><th scope="col">App</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#externalApps}}<tr class="incident-app" data-app-id="{{id}}"><td data-label="App">{{name}}</td>
        <td data-label="Action"><form method="post" action="/admin/incidents/apps/{{id}}/disable"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger" id="disable-app-{{id}}">Disable now</button></form></td></tr>{{/externalApps}}
        </tbody>
        </table></div>
        {{^externalApps}}<p class="meta">No active apps.</p>{{/externalApps}}
        </section>
        <h2>Recent revocations</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Started</th><th scope="col">Scope</th><th scope="col">Status</th><th scope="col">Deleted</th><th scope="col">Revoked at provider</th><th scope="col">Provider failed</th></tr></thead>
        <tbody>
        {{#jobs}}<tr class="incident-job" data-job-id="{{id}}"><td data-label="Started"><a href="/admin/incidents/jobs/{{id}}">{{started}}</a></td><td data-label="Scope">{{scope}}</td>
        <td data-label="Status"><span class="status{{#warn}} warn{{/warn}}">{{status}}</span></td><td data-label="Deleted">{{processed}} of {{total}}</td><td data-label="Revoked at provider">{{revoked}}</td><td data-label="Provider failed">{{revocationFailed}}</td></tr>{{/jobs}}
        </tbody>
        </table></div>
        {{^jobs}}<p class="meta" id="no-jobs">No revocations yet.</p>{{/jobs}}
        """

    static let adminIncidentConfirm = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Revoke {{what}}?</h1>
        <p id="preview-total"><strong>{{total}}</strong> credentials would be revoked at their providers and deleted. This cannot be undone: the people and apps concerned must connect again.</p>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Integration</th><th scope="col">Credentials</th></tr></thead>
        <tbody>
        {{#counts}}<tr class="preview-count" data-integration="{{integration}}"><td data-label="Integration">{{integration}}</td><td data-label="Credentials">{{credentials}}</td></tr>{{/counts}}
        </tbody>
        </table></div>
        {{#error}}<div class="error" role="alert" id="confirm-error">{{error}}</div>{{/error}}
        <form method="post" action="/admin/incidents/revoke">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="scope" value="{{scope}}">
        {{#integration}}<input type="hidden" name="integration" value="{{integration}}">{{/integration}}
        {{#app}}<input type="hidden" name="app" value="{{app}}">{{/app}}
        <label for="confirm">Type <strong><code id="phrase">{{phrase}}</code></strong> to confirm</label>
        <input id="confirm" name="confirm" autocomplete="off" spellcheck="false" required autofocus{{#error}} aria-invalid="true" aria-describedby="confirm-error"{{/error}}>
        <div class="actions"><button type="submit" class="danger" id="confirm-revoke">Revoke and delete</button><a class="button secondary" href="/admin/incidents">Cancel</a></div>
        </form>
        </section>
        """

    static let adminIncidentJob = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Revocation of {{scope}}: <span id="job-status">{{status}}</span></h1>
        {{#running}}<p class="meta">Still under way (or cut short and resumed when this page is opened). Reload to see progress.</p>{{/running}}
        {{#failedRun}}<div class="error" role="alert">The run stopped: {{error}} What is counted below was done; start a new revocation for the rest.</div>{{/failedRun}}
        <dl>
        <dt>Deleted</dt><dd id="job-processed">{{processed}} of {{total}}</dd>
        <dt>Revoked at the provider</dt><dd id="job-revoked">{{revoked}}</dd>
        <dt>Nothing to revoke at the provider</dt><dd id="job-not-supported">{{notSupported}}</dd>
        <dt>Provider did not confirm (deleted here all the same)</dt><dd id="job-revocation-failed">{{revocationFailed}}</dd>
        <dt>Started</dt><dd>{{started}}</dd>
        {{#finished}}<dt>Finished</dt><dd>{{finished}}</dd>{{/finished}}
        </dl>
        <p class="meta">A credential whose provider did not confirm may keep working at that provider until its token expires: revoke the app's access there too.</p>
        <p><a href="/admin/incidents">Back to incident response</a></p>
        </section>
        """
}
