extension Templates {
    /// The administrator's operations pages: webhooks, users and the overview.
    static let adminOps: [(String, String)] = [
        ("admin-webhooks", adminWebhooks),
        ("admin-webhook-rotate", adminWebhookRotate),
        ("admin-webhook-remove", adminWebhookRemove),
        ("admin-users", adminUsers),
    ]

    static let adminWebhooks = """
        <h1 id="heading">Webhooks</h1>
        <p class="meta">Latchkey tells one address of yours when something changes: an account connected, revoked or needing reconnection, a connection's health, an integration refused by its provider. Each event is a signed POST, retried for 24 hours.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#secret}}<section class="card" aria-labelledby="secret-heading">
        <h2 id="secret-heading">{{#created}}The webhook is set. Its signing secret{{/created}}{{^created}}The new signing secret{{/created}}</h2>
        <p>It is shown <strong>only this once</strong>. Your receiver checks each event's <code>Latchkey-Signature</code> with it; store it in its secret store.{{^created}} The old secret no longer signs events.{{/created}}</p>
        <p class="secret" id="signing-secret">{{value}}</p>
        <button type="button" class="secondary copy" data-copy="signing-secret" hidden>Copy the secret</button>
        </section>
        <script src="/assets/console.js"></script>{{/secret}}
        <h2 id="endpoint-heading">Endpoint</h2>
        {{#endpoint}}<p>Events go to <code id="endpoint-url">{{url}}</code> <span class="meta">(since {{since}})</span>.</p>
        <div class="actions">
        <form method="post" action="/admin/webhooks/test"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" id="send-test">Send test event</button></form>
        <a class="button secondary" href="/admin/webhooks/rotate" id="rotate">Rotate the signing secret…</a>
        <a class="button secondary" href="/admin/webhooks/remove" id="remove">Remove…</a>
        </div>{{/endpoint}}
        {{^endpoint}}<p class="meta" id="no-endpoint">No endpoint is set: no events are sent.</p>{{/endpoint}}
        {{#urlError}}<div class="error" role="alert">The address was not saved: {{urlError}}</div>{{/urlError}}
        <form method="post" action="/admin/webhooks" aria-labelledby="endpoint-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="url">{{#endpoint}}Change the address{{/endpoint}}{{^endpoint}}Address to send events to{{/endpoint}} <span class="hint">(https://…)</span></label>
        <input id="url" name="url" type="url" inputmode="url" maxlength="2048" required autofocus value="{{url}}"{{#urlError}} aria-invalid="true" aria-describedby="url-error"{{/urlError}}>
        {{#urlError}}<p class="error" id="url-error">{{urlError}}</p>{{/urlError}}
        <button type="submit" id="save-url">{{#endpoint}}Save the address{{/endpoint}}{{^endpoint}}Set the webhook{{/endpoint}}</button>
        </form>
        <h2>Recent deliveries</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Event</th><th scope="col">Queued</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#deliveries}}<tr class="webhook-delivery{{#dead}} dead{{/dead}}" data-delivery-id="{{id}}" data-event-type="{{type}}"><td data-label="Event"><code>{{type}}</code>{{#app}} <span class="meta">(an app's endpoint)</span>{{/app}}</td>
        <td data-label="Queued">{{time}}</td><td data-label="Status"><span class="status{{#warn}} warn{{/warn}}">{{state}}</span></td><td data-label="Attempts">{{attempts}}</td>
        <td data-label="Last error" class="meta">{{problem}}</td>
        <td data-label="Replay"><form method="post" action="/admin/webhooks/deliveries/{{id}}/replay"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary">Replay</button></form></td></tr>{{/deliveries}}
        </tbody>
        </table></div>
        {{^deliveries}}<p class="meta" id="no-deliveries">No events yet.</p>{{/deliveries}}
        """

    static let adminWebhookRotate = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Rotate the signing secret?</h1>
        <p>A new secret signs every event from now on, and the old one stops at once: your receiver at <code>{{host}}</code> refuses events until it has the new secret. The new secret is shown once, on the next page.</p>
        <form method="post" action="/admin/webhooks/rotate">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-rotate">Rotate the secret</button><a class="button secondary" href="/admin/webhooks">Keep the current one</a></div>
        </form>
        </section>
        """

    static let adminWebhookRemove = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Remove the webhook?</h1>
        <p>No more events are sent to <code>{{url}}</code>. Events still waiting are given up; you can replay them once an endpoint is set again.</p>
        <form method="post" action="/admin/webhooks/remove">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-remove">Remove the webhook</button><a class="button secondary" href="/admin/webhooks">Keep it</a></div>
        </form>
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
}
