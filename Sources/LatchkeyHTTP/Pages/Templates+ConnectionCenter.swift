/// The Connection Center (`/connections`) and its Disconnect confirmation; registered with the console's pages (``Templates/console``).
extension Templates {
    static let connections = """
        <h1 id="heading">Your connections</h1>
        <p class="meta">Services you connect here can be used on your behalf by the tools and agents you allow. Your tokens stay in this vault.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        \(ReauthBanner.template)
        {{#error}}<div class="error" role="alert" id="error-summary"><a href="#{{errorField}}">{{error}}</a></div>{{/error}}
        {{#returning}}<div class="returning" role="note">{{returning}}</div>{{/returning}}
        <section aria-labelledby="connected-heading">
        <h2 id="connected-heading">Connected accounts</h2>
        {{^connections}}<p class="meta" id="no-connections">Nothing is connected yet. Pick a service below.</p>{{/connections}}
        <ul class="grid accounts">
        {{#connections}}
        <li class="connection tile" id="connection-{{id}}" data-credential-id="{{id}}" data-integration="{{integration}}">
        <h3><span class="badge" aria-hidden="true">{{initial}}</span>{{service}}{{#label}} <span class="label">· {{label}}</span>{{/label}}</h3>
        <p class="meta">Account: <span class="account">{{account}}</span>{{#choosesDefault}}{{#isDefault}} · <strong class="default">Used by default</strong>{{/isDefault}}{{/choosesDefault}}</p>
        <p class="meta">Connected <time class="connected" datetime="{{connectedISO}}">{{connected}}</time> · Status: <span class="status{{#problem}} warn{{/problem}}">{{statusText}}</span></p>
        <p class="meta">{{#lastUsedISO}}Last used <time class="last-used" datetime="{{lastUsedISO}}">{{lastUsed}}</time>{{/lastUsedISO}}{{^lastUsedISO}}<span class="last-used">Never used</span>{{/lastUsedISO}}</p>
        {{#hasPermissions}}<p class="meta">Allowed to:</p><ul class="perm">{{#permissions}}<li>{{.}}</li>{{/permissions}}</ul>{{/hasPermissions}}
        {{#hasWanted}}<div class="error wanted-scopes" role="alert">A tool needs more permissions on this account. Reconnect and also allow it to:
        <ul class="perm">{{#wanted}}<li>{{.}}</li>{{/wanted}}</ul>
        <form method="post" action="/connections/{{id}}/reconnect"><input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="scopes" value="{{wantedScopes}}"><button type="submit" id="reconnect-wider">Reconnect and allow</button></form></div>{{/hasWanted}}
        <form method="post" action="/connections/{{id}}/label" class="label-form">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="label-{{id}}">Label <span class="hint">(your own name for this account, e.g. Work; leave empty for none)</span></label>
        <input id="label-{{id}}" name="label" maxlength="200" autocomplete="off" value="{{labelValue}}"{{#labelError}} aria-invalid="true" aria-describedby="label-error-{{id}}" autofocus{{/labelError}}>
        {{#labelError}}<p class="field-error" id="label-error-{{id}}">{{labelError}}</p>{{/labelError}}
        <button type="submit" class="secondary">Save the label</button>
        </form>
        <div class="actions tile-end">
        {{#choosesDefault}}{{^isDefault}}<form method="post" action="/connections/{{id}}/default"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary use-default">Use by default</button></form>{{/isDefault}}{{/choosesDefault}}
        <form method="post" action="/connections/{{id}}/reconnect"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary">Reconnect</button></form>
        <a class="button danger disconnect" href="/connections/{{id}}/disconnect">Disconnect…</a>
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
        <ul class="grid services">
        {{#services}}
        <li class="service tile" data-integration="{{key}}">
        <h3><span class="badge" aria-hidden="true">{{initial}}</span>{{name}}</h3>
        <p class="meta">{{summary}}</p>
        {{#hasPermissions}}<ul class="perm">{{#permissions}}<li>{{.}}</li>{{/permissions}}</ul>{{/hasPermissions}}
        {{#docs}}<p class="meta"><a class="docs" href="{{docs}}" rel="noopener noreferrer">{{name}} documentation</a></p>{{/docs}}
        <form method="post" action="/connections/{{key}}/connect" class="tile-end"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit">Connect {{name}}</button></form>
        </li>
        {{/services}}
        </ul>
        </section>
        """

    /// Before a Disconnect: what it does, a destructive button posting it, and a way back.
    static let connectionDisconnect = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Disconnect {{service}} account{{#account}} {{account}}{{/account}}?</h1>
        <p>Latchkey asks {{service}} to revoke its access where {{service}} allows it, and deletes the stored tokens. Tools and agents you allowed can no longer use this account. You can connect it again later.</p>
        <form method="post" action="/connections/{{id}}/disconnect">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-disconnect">Disconnect</button><a class="button secondary" href="/connections">Keep it connected</a></div>
        </form>
        </section>
        """
}
