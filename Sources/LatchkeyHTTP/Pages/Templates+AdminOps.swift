extension Templates {
    /// The administrator's operations pages: webhooks, users and the overview.
    static let adminOps: [(String, String)] = [
        ("admin-webhooks", adminWebhooks),
        ("admin-webhook-rotate", adminWebhookRotate),
        ("admin-webhook-remove", adminWebhookRemove),
        ("admin-users", adminUsers),
        ("admin-user", adminUser),
        ("admin-user-remove", adminUserRemove),
        ("admin-user-erase", adminUserErase),
        ("admin-overview", adminOverview),
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
        <label for="url">{{#endpoint}}Change the address{{/endpoint}}{{^endpoint}}Address to send events to{{/endpoint}} <span class="hint">({{urlHint}})</span></label>
        <input id="url" name="url" type="url" inputmode="url" maxlength="2048" required{{^endpoint}} autofocus{{/endpoint}}{{#endpoint}}{{#urlError}} autofocus{{/urlError}}{{/endpoint}} value="{{url}}"{{#urlError}} aria-invalid="true" aria-describedby="url-error"{{/urlError}}>
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
        <p class="meta">The people who sign in to this console. Administrators manage integrations, apps, keys and users; auditors read everything an administrator sees and change nothing; members connect their own accounts.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col"></th></tr></thead>
        <tbody>{{#users}}<tr class="console-user" data-user-id="{{id}}" data-email="{{email}}"><td data-label="Email">{{email}}{{#you}} <span class="meta">(you)</span>{{/you}}</td><td data-label="Name">{{name}}</td>
        <td data-label="Role">{{roleName}}</td><td data-label="Manage"><a href="/admin/users/{{id}}">Manage…</a></td></tr>{{/users}}</tbody>
        </table></div>
        <h2 id="add-heading">Add a user</h2>
        {{#error}}<div class="error" role="alert">The user was not added: {{error}}</div>{{/error}}
        <form method="post" action="/admin/users" class="tile" aria-labelledby="add-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" required{{#error}} autofocus{{/error}} value="{{typed.email}}"{{#emailError}} aria-invalid="true" aria-describedby="email-error"{{/emailError}}>
        {{#emailError}}<p class="error" id="email-error">{{emailError}}</p>{{/emailError}}
        <label for="name">Name</label>
        <input id="name" name="name" type="text" required value="{{typed.name}}"{{#nameError}} aria-invalid="true" aria-describedby="name-error"{{/nameError}}>
        {{#nameError}}<p class="error" id="name-error">{{nameError}}</p>{{/nameError}}
        <label for="password">Initial password <span class="hint">(at least 12 characters; share it privately)</span></label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required{{#passwordError}} aria-invalid="true" aria-describedby="password-error"{{/passwordError}}>
        {{#passwordError}}<p class="error" id="password-error">{{passwordError}}</p>{{/passwordError}}
        <label for="new-role">Role</label>
        <select id="new-role" name="role"{{#roleError}} aria-invalid="true" aria-describedby="new-role-error"{{/roleError}}>{{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/roles}}</select>
        {{#roleError}}<p class="error" id="new-role-error">{{roleError}}</p>{{/roleError}}
        <button type="submit">Add user</button>
        </form>
        """

    static let adminUser = """
        <h1 id="heading">{{name}}</h1>
        <p class="meta"><span id="user-email">{{email}}</span> · <span id="user-role">{{roleName}}</span>{{#you}} · this is you{{/you}} · added {{since}}</p>
        <p><a href="/admin/users">Back to all users</a></p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#problems}}<div class="error" role="alert">{{.}}</div>{{/problems}}
        {{#generated}}<section class="card" aria-labelledby="generated-heading">
        <h2 id="generated-heading">The new password</h2>
        <p>It is shown <strong>only this once</strong>; give it to the person privately. {{note}}</p>
        <p class="secret" id="new-password">{{password}}</p>
        <button type="button" class="secondary copy" data-copy="new-password" hidden>Copy the password</button>
        </section>
        <script src="/assets/console.js"></script>{{/generated}}
        <h2 id="password-heading">Reset the password</h2>
        <form method="post" action="/admin/users/{{id}}/password" aria-labelledby="password-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="new-password-field">New password <span class="hint">(at least 12 characters; leave empty to have one generated)</span></label>
        <input id="new-password-field" name="password" type="password" autocomplete="new-password"{{#passwordError}} autofocus{{/passwordError}}{{#passwordError}} aria-invalid="true" aria-describedby="password-error"{{/passwordError}}>
        {{#passwordError}}<p class="error" id="password-error">{{passwordError}}</p>{{/passwordError}}
        <p class="hint">{{#you}}Your other sessions end.{{/you}}{{^you}}They are signed out everywhere.{{/you}}</p>
        <button type="submit" id="reset-password">Set the password</button>
        </form>
        <h2 id="role-heading">Role</h2>
        <form method="post" action="/admin/users/{{id}}/role" aria-labelledby="role-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="role">Role</label>
        <select id="role" name="role"{{#roleError}} aria-invalid="true" aria-describedby="role-error"{{/roleError}}>
        {{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/roles}}
        </select>
        {{#roleError}}<p class="error" id="role-error">{{roleError}}</p>{{/roleError}}
        <button type="submit" class="secondary" id="change-role">Change the role</button>
        </form>
        <h2 id="remove-heading">Remove</h2>
        <p class="meta">They can no longer sign in; the accounts they connected stay with this tenant.</p>
        {{#removeError}}<p class="error" id="remove-error">{{removeError}}</p>{{/removeError}}
        {{#you}}<p class="meta" id="remove-self">You cannot remove yourself; another administrator can.</p>{{/you}}
        {{^you}}<a class="button secondary" href="/admin/users/{{id}}/remove" id="remove-user">Remove {{email}}…</a>{{/you}}
        {{#erasure}}<h2 id="data-heading">Personal data</h2>
        <p class="meta">Everything held about them, as JSON (no token or secret); or erase them: their connected accounts are revoked and deleted with everything else about them.</p>
        {{#eraseError}}<p class="error" id="erase-error">{{eraseError}}</p>{{/eraseError}}
        <div class="actions"><a class="button secondary" href="/admin/users/{{id}}/export" id="export-user" download>Export their data</a>
        {{^you}}<a class="button secondary" href="/admin/users/{{id}}/erase" id="erase-user">Erase {{email}}…</a>{{/you}}</div>{{/erasure}}
        """

    static let adminUserErase = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Erase {{email}}?</h1>
        <p>Every account {{name}} connected is revoked at its provider and deleted, with their sign-in methods, passkeys, sessions, second factor and the access they gave to apps; then they are removed. The audit log keeps its events and stays verifiable. This cannot be undone.</p>
        <form method="post" action="/admin/users/{{id}}/erase">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="confirm-email">Type their email to confirm</label>
        <input id="confirm-email" name="confirm" type="text" autocomplete="off" required{{#confirmError}} aria-invalid="true" aria-describedby="confirm-error"{{/confirmError}}>
        {{#confirmError}}<p class="error" id="confirm-error">{{confirmError}}</p>{{/confirmError}}
        <div class="actions"><button type="submit" class="danger" id="confirm-erase">Erase for good</button><a class="button secondary" href="/admin/users/{{id}}">Keep them</a></div>
        </form>
        </section>
        """

    static let adminUserRemove = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Remove {{email}}?</h1>
        <p>{{name}} can no longer sign in; their sessions end at once, and the apps they allowed to act for them lose that access. The accounts they connected stay with this tenant. This cannot be undone; add them again to give them back access.</p>
        <form method="post" action="/admin/users/{{id}}/remove">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-remove">Remove the user</button><a class="button secondary" href="/admin/users/{{id}}">Keep them</a></div>
        </form>
        </section>
        """

    static let adminOverview = """
        <h1 id="heading">Overview</h1>
        <p class="meta">This tenant at a glance, and anything that needs you.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        \(ReauthBanner.template)
        <section aria-labelledby="attention-heading">
        <h2 id="attention-heading">Needs attention</h2>
        {{#attention}}<div class="error attention" role="note" data-kind="{{kind}}"{{#integration}} data-integration="{{integration}}"{{/integration}}>{{text}} <a href="{{href}}">{{action}}</a></div>{{/attention}}
        {{^attention}}<p class="flash" id="all-good">Nothing needs attention: integrations work, connected accounts refresh and webhook events arrive.</p>{{/attention}}
        </section>
        <section aria-labelledby="counts-heading">
        <h2 id="counts-heading">Counts</h2>
        <ul class="grid">
        {{#tiles}}<li class="tile overview-count"><p class="meta">{{label}}</p><p><strong>{{count}}</strong></p>{{#href}}<a href="{{href}}">{{link}}</a>{{/href}}</li>{{/tiles}}
        </ul>
        </section>
        <p><a href="/admin/connections">Connections and health</a> · <a href="/admin/webhooks">Webhooks</a> · <a href="/admin/audit">Audit log</a> · <a href="/admin/keys">Admin API keys</a></p>
        """
}
