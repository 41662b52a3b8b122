extension Templates {
    /// The administrator's Integrations pages.
    static let integrations: [(String, String)] = [
        ("admin-integrations", adminIntegrations)
    ]

    /// The fields of an integration form, each with its problem beside it (`fields` from ``IntegrationPageForm``).
    static let integrationFields = """
        {{#fields}}
        <label for="{{id}}">{{label}}{{#hint}} <span class="hint">({{hint}})</span>{{/hint}}</label>
        <input id="{{id}}" name="{{id}}" type="{{type}}" autocomplete="{{#password}}new-password{{/password}}{{^password}}off{{/password}}" value="{{value}}"{{#required}} required{{/required}}{{#autofocus}} autofocus{{/autofocus}}{{#error}} aria-invalid="true" aria-describedby="{{id}}-error"{{/error}}>
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
        {{#alerts}}<div class="error misconfigured" role="alert">{{.}}</div>{{/alerts}}
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        <table>
        <thead><tr><th scope="col">Key</th><th scope="col">Service</th><th scope="col">Client</th><th scope="col">Scopes</th><th scope="col">State</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#integrations}}
        <tr class="integration" data-integration="{{key}}"><td>{{key}}</td><td>{{name}}</td><td>{{clientID}}{{#hasSecret}} · secret stored{{/hasSecret}}</td><td>{{scopes}}</td>
        <td>{{#enabled}}Enabled{{/enabled}}{{^enabled}}Disabled{{/enabled}}</td>
        <td><form method="post" action="/admin/integrations/{{key}}/toggle"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary">{{#enabled}}Disable{{/enabled}}{{^enabled}}Enable{{/enabled}}</button></form></td></tr>
        {{/integrations}}
        </tbody>
        </table>
        <h2 id="add-heading">Add an integration</h2>
        \(integrationProblems)
        <form method="post" action="/admin/integrations" class="tile" aria-labelledby="add-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="provider">Service</label>
        <select id="provider" name="provider" required{{#providerError}} aria-invalid="true" aria-describedby="provider-error"{{/providerError}}>{{#providers}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}} ({{mode}})</option>{{/providers}}</select>
        {{#providerError}}<p class="error field-problem" id="provider-error">{{providerError}}</p>{{/providerError}}
        \(integrationFields)
        <p class="hint">Redirect URI to register at the provider: <code>{{callbackURL}}</code></p>
        <button type="submit">Add integration</button>
        </form>
        """
}
