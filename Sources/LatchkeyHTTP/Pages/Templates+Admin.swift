extension Templates {
    /// The administrator's pages for keys and the audit log.
    static let admin: [(String, String)] = [
        ("admin-keys", adminKeys),
        ("admin-key-revoke", adminKeyRevoke),
        ("admin-audit", adminAudit),
    ]

    static let adminKeys = """
        <h1 id="heading">Admin API keys</h1>
        <p class="meta">An admin key (<code>lk_live_…</code>) calls every <code>/api/v1</code> route for this tenant. Give each program its own, and revoke one the moment it may have leaked.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#created}}<section class="card" aria-labelledby="created-heading">
        <h2 id="created-heading">New key: {{name}}</h2>
        <p>It is shown <strong>only this once</strong>; store it in a password manager or your program's secret store.</p>
        <p class="secret" id="new-key">{{key}}</p>
        <button type="button" class="secondary copy" data-copy="new-key" hidden>Copy the key</button>
        </section>
        <script src="/assets/console.js"></script>{{/created}}
        <h2>Create a key</h2>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/admin/keys">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="key-name">Name <span class="hint">(what will use it, e.g. "billing sync")</span></label>
        <input id="key-name" name="name" maxlength="100" required autofocus value="{{name}}">
        <button type="submit" id="create-key">Create key</button>
        </form>
        <h2>Keys</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
        <tbody>
        {{#keys}}<tr class="admin-key" data-key-id="{{id}}"><td data-label="Name">{{name}}</td><td data-label="Starts with"><code>{{prefix}}…</code></td><td data-label="Role">{{roleName}}</td><td data-label="Created">{{created}}</td><td data-label="Last used">{{lastUsed}}</td>
        <td data-label="Status">{{#revoked}}<span class="status warn">revoked {{revoked}}</span>{{/revoked}}{{^revoked}}<span class="status">active</span> <a href="/admin/keys/{{id}}/revoke">Revoke…</a>{{/revoked}}</td></tr>{{/keys}}
        </tbody>
        </table></div>
        {{^keys}}<p class="meta">No keys yet.</p>{{/keys}}
        """

    static let adminKeyRevoke = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Revoke the key “{{name}}”?</h1>
        <p>The key starting with <code>{{prefix}}…</code> stops working at once, on every instance. Programs that use it get 401 until they are given another key. This cannot be undone.</p>
        <form method="post" action="/admin/keys/{{id}}/revoke">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-revoke">Revoke the key</button><a class="button secondary" href="/admin/keys">Keep it</a></div>
        </form>
        </section>
        """

    static let adminAudit = """
        <h1 id="heading">Audit log</h1>
        <p class="meta">Every access to a secret, every change and every sign-in, newest first. Each event is chained to the one before by a hash, so an edited, deleted or reordered event shows when the chain is checked.</p>
        {{#chain}}<div class="{{#intact}}flash{{/intact}}{{^intact}}error{{/intact}}" role="status" id="chain-status">{{summary}}{{#problems}}<br>{{.}}{{/problems}}</div>{{/chain}}
        <div class="actions">
        <form method="post" action="/admin/audit/verify" class="reads"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary" id="verify-chain">Check the chain</button></form>
        <a class="button secondary" href="/admin/audit/export?format=jsonl" download>Export (JSON lines)</a>
        <a class="button secondary" href="/admin/audit/export?format=csv" download>Export (CSV)</a>
        </div>
        <form method="get" action="/admin/audit">
        <label for="action-filter">Only events of one kind <span class="hint">(e.g. credential.token, user.sign_in)</span></label>
        <input id="action-filter" name="action" value="{{action}}" maxlength="100">
        <button type="submit" class="secondary" id="filter">Show</button>
        </form>
        <div class="scroll"><table>
        <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">On</th><th scope="col">Result</th><th scope="col">Details</th></tr></thead>
        <tbody>
        {{#events}}<tr class="audit-event" data-seq="{{seq}}"><td data-label="#">{{seq}}</td><td data-label="When">{{time}}</td><td data-label="Who">{{actor}}</td><td data-label="What">{{action}}</td><td data-label="On">{{service}} {{target}}</td>
        <td data-label="Result"><span class="status{{#failed}} warn{{/failed}}">{{result}}</span></td><td class="meta" data-label="Details">{{details}}</td></tr>{{/events}}
        </tbody>
        </table></div>
        {{^events}}<p class="meta">No events{{#action}} of the kind {{action}}{{/action}}.</p>{{/events}}
        {{#older}}<p><a href="{{older}}" id="older">Older events</a></p>{{/older}}
        """
}
