extension Templates {
    /// The administrator's Integrations pages.
    static let integrations: [(String, String)] = [
        ("admin-integrations", adminIntegrations),
        ("admin-integration-choose", adminIntegrationChoose),
        ("admin-integration-new", adminIntegrationNew),
        ("admin-integration-edit", adminIntegrationEdit),
        ("admin-integration-delete", adminIntegrationDelete),
    ]

    /// Choosing a service: a plain GET form, so it works without a script.
    static let integrationChooser = """
        <form method="get" action="/admin/integrations/new" class="choose-service">
        <label for="provider">Service</label>
        <select id="provider" name="provider" required{{#autofocus}} autofocus{{/autofocus}}{{#error}} aria-invalid="true" aria-describedby="provider-error"{{/error}}>
        {{#groups}}<optgroup label="{{label}}">{{#providers}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/providers}}</optgroup>{{/groups}}
        </select>
        {{#error}}<p class="error field-problem" id="provider-error">{{error}}</p>{{/error}}
        <button type="submit" id="choose-service">Continue</button>
        </form>
        """

    /// The fields of an integration form, each with its problem beside it (`fields` from ``IntegrationPageForm``).
    static let integrationFields = """
        {{#fields}}
        <label for="{{id}}">{{label}}{{#hint}} <span class="hint">({{hint}})</span>{{/hint}}</label>
        <input id="{{id}}" name="{{id}}" type="{{type}}"{{#autocomplete}} autocomplete="{{autocomplete}}"{{/autocomplete}} value="{{value}}"{{#required}} required{{/required}}{{#autofocus}} autofocus{{/autofocus}}{{#error}} aria-invalid="true" aria-describedby="{{id}}-error"{{/error}}>
        {{#error}}<p class="error field-problem" id="{{id}}-error">{{error}}</p>{{/error}}
        {{/fields}}
        """

    /// The summary of a form's problems, each linking to its field.
    static let integrationProblems = """
        {{#hasProblems}}<div class="error" role="alert" id="form-problems"><p>{{problemsHeading}}</p><ul>
        {{#problems}}<li>{{#link}}<a href="#{{field}}">{{message}}</a>{{/link}}{{^link}}{{message}}{{/link}}</li>{{/problems}}
        </ul></div>{{/hasProblems}}
        """

    static let adminIntegrations = """
        <h1 id="heading">Integrations</h1>
        <p class="meta">Services people in this tenant can connect. Client secrets are stored encrypted and never shown again.</p>
        {{#alerts}}<div class="error misconfigured" role="alert">{{name}} refused this server's OAuth client, so its tokens cannot be refreshed. <a href="/admin/integrations/{{key}}">Check the client ID and secret of the integration {{key}}</a> (the warning clears once they change).</div>{{/alerts}}
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Service</th><th scope="col">Client</th><th scope="col">Scopes</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
        <tbody>
        {{#integrations}}
        <tr class="integration" data-integration="{{key}}"><td data-label="Name"><a href="/admin/integrations/{{key}}">{{name}}</a> <span class="meta">({{key}})</span></td>
        <td data-label="Service">{{service}}</td><td data-label="Client">{{clientID}}{{#hasSecret}} · secret stored{{/hasSecret}}</td><td data-label="Scopes">{{scopes}}</td>
        <td data-label="Status">{{#enabled}}<span class="status">Enabled</span>{{/enabled}}{{^enabled}}<span class="status warn">Disabled</span>{{/enabled}}{{#misconfigured}} <span class="status warn">Misconfigured</span>{{/misconfigured}}</td>
        <td data-label="Actions"><div class="actions"><a class="button secondary" href="/admin/integrations/{{key}}">Edit</a><form method="post" action="/admin/integrations/{{key}}/toggle"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary">{{#enabled}}Disable{{/enabled}}{{^enabled}}Enable{{/enabled}}</button></form></div></td></tr>
        {{/integrations}}
        </tbody>
        </table></div>
        {{^integrations}}<p class="meta" id="no-integrations">No integrations yet. Add one below.</p>{{/integrations}}
        <h2 id="add-heading">Add an integration</h2>
        <p class="meta">Choose the service first: the next page asks only for what it needs.</p>
        \(integrationChooser)
        """

    static let adminIntegrationChoose = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Add an integration</h1>
        <p>Which service should people in this tenant be able to connect?</p>
        \(integrationChooser)
        <p><a href="/admin/integrations">Back to the integrations</a></p>
        </section>
        """

    static let adminIntegrationNew = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Add {{name}}</h1>
        {{#notes}}<p class="meta">{{notes}}</p>{{/notes}}
        {{#isOAuth}}<section aria-labelledby="howto-heading" class="howto">
        <h2 id="howto-heading">First, register an OAuth app at {{at}}</h2>
        <ol>
        {{#generic}}<li>Your provider's documentation explains how; the protocol: <a href="{{docsURL}}" id="provider-docs" rel="noreferrer">{{docsURL}}</a>.</li>{{/generic}}
        {{^generic}}<li>{{name}}'s documentation explains how: <a href="{{docsURL}}" id="provider-docs" rel="noreferrer">{{docsURL}}</a>.</li>{{/generic}}
        {{#redirect}}<li>Where it asks for a redirect URI (or callback URL), enter exactly:
        <p class="secret" id="redirect-uri">{{callbackURL}}</p>
        <button type="button" class="secondary copy" data-copy="redirect-uri" hidden>Copy the redirect URI</button></li>{{/redirect}}
        <li>Enter the client ID and client secret it gives you below.</li>
        </ol>
        </section>{{/isOAuth}}
        {{^isOAuth}}<p>People who connect {{name}} enter their own {{keyLabel}}; it is stored encrypted. There is no OAuth app to register. {{name}}'s documentation: <a href="{{docsURL}}" id="provider-docs" rel="noreferrer">{{docsURL}}</a>.</p>{{/isOAuth}}
        \(integrationProblems)
        <form method="post" action="/admin/integrations">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="provider" value="{{provider}}">
        \(integrationFields)
        {{#hasKnownScopes}}<details class="known-scopes"><summary>Scopes {{name}} knows</summary>
        <ul class="perm">{{#knownScopes}}<li><code>{{name}}</code>: {{description}}</li>{{/knownScopes}}</ul></details>{{/hasKnownScopes}}
        <div class="actions"><button type="submit" id="add-integration">Add {{name}}</button><a class="button secondary" href="/admin/integrations">Cancel</a></div>
        </form>
        </section>
        <script src="/assets/console.js"></script>
        """

    static let adminIntegrationEdit = """
        <p><a href="/admin/integrations">All integrations</a></p>
        <h1 id="heading">{{name}} <span class="meta">({{key}})</span></h1>
        <p>{{service}} ·
        {{#enabled}}<span class="status">Enabled</span>{{/enabled}}{{^enabled}}<span class="status warn" id="disabled-badge">Disabled</span>{{/enabled}}
        {{#misconfigured}} <span class="status warn" id="misconfigured-badge">Misconfigured</span>{{/misconfigured}}</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#misconfigured}}<div class="error misconfigured" role="alert">{{service}} refused this server's OAuth client, so its tokens cannot be refreshed{{#statusReason}} ({{statusReason}}){{/statusReason}}. Check the client ID and secret below; the warning clears once they change.</div>{{/misconfigured}}
        <section aria-labelledby="usage-heading">
        <h2 id="usage-heading">How it is used</h2>
        {{#usage}}<dl class="usage">
        <dt>Connected</dt><dd id="usage-connected">{{people}} ({{accounts}})</dd>
        <dt>Last 24 hours</dt><dd id="usage-calls">{{#hasCalls}}{{calls}}, <span class="status{{#failing}} warn{{/failing}}">{{rate}} succeeded</span>{{/hasCalls}}{{^hasCalls}}No calls{{/hasCalls}}</dd>
        </dl>{{/usage}}
        <p class="meta">Calls are proxy, tool and token calls through this integration, from the request log of every instance; a call succeeded when it was answered below 400.</p>
        </section>
        {{#redirect}}<section aria-labelledby="redirect-heading">
        <h2 id="redirect-heading">Redirect URI</h2>
        <p>Registered at {{at}} for this OAuth app{{#docsURL}} (<a href="{{docsURL}}" rel="noreferrer">{{service}}'s documentation</a>){{/docsURL}}:</p>
        <p class="secret" id="redirect-uri">{{callbackURL}}</p>
        <button type="button" class="secondary copy" data-copy="redirect-uri" hidden>Copy the redirect URI</button>
        </section>{{/redirect}}
        <h2 id="settings-heading">Settings</h2>
        \(integrationProblems)
        <form method="post" action="/admin/integrations/{{key}}" class="tile" aria-labelledby="settings-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        {{#isOAuth}}<p class="meta" id="secret-state">{{#hasSecret}}A client secret is stored (encrypted; it is never shown).{{/hasSecret}}{{^hasSecret}}No client secret is stored.{{/hasSecret}}</p>{{/isOAuth}}
        \(integrationFields)
        {{#hasKnownScopes}}<details class="known-scopes"><summary>Scopes {{service}} knows</summary>
        <ul class="perm">{{#knownScopes}}<li><code>{{name}}</code>: {{description}}</li>{{/knownScopes}}</ul></details>{{/hasKnownScopes}}
        <label for="status">Status <span class="hint">(a disabled integration cannot be connected and its tools are not offered; connected accounts are kept)</span></label>
        <select id="status" name="status"><option value="enabled"{{#formEnabled}} selected{{/formEnabled}}>Enabled</option><option value="disabled"{{^formEnabled}} selected{{/formEnabled}}>Disabled</option></select>
        <button type="submit" id="save-integration">Save changes</button>
        </form>
        <p><a href="/admin/integrations/{{key}}/delete" id="delete-integration">Delete this integration…</a></p>
        <script src="/assets/console.js"></script>
        """

    static let adminIntegrationDelete = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Delete the integration “{{name}}” ({{key}})?</h1>
        {{#blocked}}<div class="error" role="alert" id="delete-refused">{{#refused}}It was not deleted: {{/refused}}{{accounts}} still connected to it. Deleting it would lose them silently, so it is refused: ask the people to disconnect them first, or disable the integration instead.</div>
        <div class="actions"><a class="button secondary" href="/admin/integrations/{{key}}">Back to the integration</a></div>{{/blocked}}
        {{^blocked}}<p>People can no longer connect {{name}}, apps and the API no longer find <code>{{key}}</code>, and its client secret is gone. This cannot be undone.</p>
        <form method="post" action="/admin/integrations/{{key}}/delete">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-delete">Delete the integration</button><a class="button secondary" href="/admin/integrations/{{key}}">Keep it</a></div>
        </form>{{/blocked}}
        </section>
        """
}
