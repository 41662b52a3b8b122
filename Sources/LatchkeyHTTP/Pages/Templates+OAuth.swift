extension Templates {
    /// The authorization server's pages, by name.
    static let oauth: [(String, String)] = [
        ("oauth-consent", oauthConsent),
        ("oauth-apps", oauthApps),
    ]

    static let oauthConsent = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Allow {{clientName}} to use your services?</h1>
        <p><strong>{{clientName}}</strong> will send you back to <strong>{{redirectHost}}</strong> and can then use the tools of the services you tick below, as you, until you revoke it.</p>
        {{#loopbackOnly}}<div class="error loopback-warning" role="note">This application only returns to an address on your own computer. Allow it only if you just started it yourself.</div>{{/loopbackOnly}}
        <p class="meta">Permissions: {{#permissions}}<code>{{.}}</code> {{/permissions}}— use the MCP tools of the services you choose. Your passwords and tokens are never shared with the application.</p>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/oauth/authorize">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">
        {{/fields}}
        {{#hasServices}}
        <fieldset><legend>Services it may use</legend>
        {{#services}}<label class="service"><input type="checkbox" name="service.{{key}}" value="on" checked> {{name}}</label>
        {{/services}}
        </fieldset>
        {{/hasServices}}
        {{^hasServices}}<div class="empty-state" role="note"><p>You have not connected any service yet, so there is nothing to share. Connect one first, then come back to this page.</p></div>{{/hasServices}}
        {{#hasUnconnected}}
        <p class="meta">Not connected yet:</p>
        <ul class="unconnected">{{#unconnected}}<li>{{name}} — <a href="/connections?return={{returnTo}}">connect first</a></li>{{/unconnected}}</ul>
        {{/hasUnconnected}}
        <p>
        {{#hasServices}}<button type="submit" name="decision" value="approve">Allow</button>{{/hasServices}}
        <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
        </p>
        </form>
        </section>
        """

    static let oauthApps = """
        <h1 id="heading">Authorized apps</h1>
        <p class="meta">Applications you allowed to use your services through MCP. Revoking one cuts it off at once; signing out revokes them all.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{^apps}}<p class="meta">No application is authorized.</p>{{/apps}}
        {{#apps}}
        <section class="card authorized-app" data-grant-id="{{id}}">
        <h2>{{name}}</h2>
        <p class="meta">Authorized {{created}} · last used {{lastUsed}}</p>
        <form method="post" action="/settings/authorized-apps/{{id}}/services">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <fieldset><legend>Services it may use</legend>
        {{#services}}<label class="service"><input type="checkbox" name="service.{{key}}" value="on"{{#granted}} checked{{/granted}}> {{name}}</label>
        {{/services}}
        </fieldset>
        <button type="submit">Save services</button>
        </form>
        <form method="post" action="/settings/authorized-apps/{{id}}/revoke">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" class="danger">Revoke</button>
        </form>
        </section>
        {{/apps}}
        """
}
