extension Templates {
    /// The pages of a person's sessions and linked accounts, by name.
    static let security: [(String, String)] = [
        ("settings", settings),
        ("settings-sessions", settingsSessions),
        ("settings-session-end", settingsSessionEnd),
        ("settings-sessions-end-all", settingsSessionsEndAll),
        ("settings-identities", settingsIdentities),
        ("settings-identity-unlink", settingsIdentityUnlink),
        ("signed-in-elsewhere", signedInElsewhere),
    ]

    static let signedInElsewhere = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">You are signed in to another organization</h1>
        <p>This is the sign-in page of <strong>{{wanted}}</strong>, but this browser is signed in to <strong>{{current}}</strong> as <strong>{{email}}</strong>.</p>
        <p>To sign in to {{wanted}}, sign out first, then open this page again: <code>{{address}}</code>.</p>
        <form method="post" action="/logout">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" id="sign-out-first">Sign out of {{current}}</button><a class="button secondary" href="/connections">Stay in {{current}}</a></div>
        </form>
        </section>
        """

    static let settingsIdentities = """
        <h1 id="heading">Linked accounts</h1>
        <p class="meta">Every way you sign in to Latchkey or are known to it. The primary one is your oldest way to sign in; an account an app vouches for (a chat account) lets you look at your pages, not change them.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#error}}<div class="error" role="alert" id="unlink-error">{{error}}</div>{{/error}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Way to sign in</th><th scope="col">Account</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span class="hint">Action</span></th></tr></thead>
        <tbody>
        {{#identities}}<tr class="identity" data-identity-id="{{id}}">
        <td data-label="Way to sign in">{{method}}{{#primary}} <span class="status">primary</span>{{/primary}}{{#weak}} <span class="status warn">look only</span>{{/weak}}</td>
        <td data-label="Account">{{name}}{{#source}}<br><span class="meta">{{source}}</span>{{/source}}</td><td data-label="Added">{{created}}</td><td data-label="Last used">{{lastUsed}}</td>
        <td data-label=""><a href="/settings/identities/{{id}}/unlink" class="unlink" aria-label="Unlink {{method}} {{name}}">Unlink…</a></td></tr>
        {{/identities}}
        </tbody>
        </table></div>
        {{^identities}}<p class="meta">Nothing is linked yet.</p>{{/identities}}
        <h2>Link another way to sign in</h2>
        <ul>
        <li><a href="/settings/passkeys">Add a passkey</a> — sign in with this device's fingerprint, face or screen lock.</li>
        {{#ssoLinks}}<li><form method="post" action="/settings/identities/sso/{{key}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" class="secondary sso-link" data-integration="{{key}}">Link {{name}}</button> — then sign in with it instead of a password.
        </form></li>{{/ssoLinks}}
        {{^ssoLinks}}<li>Single sign-on or a social account (GitHub, …): your organization offers none yet; an administrator turns them on under Admin › Sign-in.</li>{{/ssoLinks}}
        <li><a href="/settings/two-factor">Two-factor codes</a> — ask for a code from an authenticator app after your password.</li>
        <li><a href="/link">Link a chat account</a> — enter the code a chat bot gave you.</li>
        </ul>
        """

    static let settingsIdentityUnlink = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Unlink {{method}}?</h1>
        <p><strong>{{name}}</strong>{{#source}} ({{source}}){{/source}} will no longer be linked to you{{#isPassword}}: your password is removed and no longer signs you in{{/isPassword}}. Browsers signed in with it, other than this one, are signed out.</p>
        {{#last}}<p class="error" role="alert" id="unlink-error">{{last}}</p>
        <a class="button secondary" href="/settings/identities">Back to linked accounts</a>{{/last}}
        {{^last}}<form method="post" action="/settings/identities/{{id}}/unlink">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-unlink">Unlink</button><a class="button secondary" href="/settings/identities">Keep it</a></div>
        </form>{{/last}}
        </section>
        """

    static let settings = """
        <h1 id="heading">Settings</h1>
        <ul class="list">
        {{#pages}}<li class="tile"><h2><a href="{{href}}">{{label}}</a></h2><p class="meta">{{about}}</p></li>
        {{/pages}}
        </ul>
        """

    static let settingsSessions = """
        <h1 id="heading">Sessions</h1>
        <p class="meta">The browsers you are signed in on. End a session you do not recognise, or one on a computer you no longer use; that browser is signed out at once.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Browser</th><th scope="col">Signed in</th><th scope="col">How</th><th scope="col">Last seen</th><th scope="col">Address</th><th scope="col"><span class="hint">Action</span></th></tr></thead>
        <tbody>
        {{#sessions}}<tr class="web-session" data-session-id="{{id}}"{{#current}} data-current="true"{{/current}}>
        <td data-label="Browser">{{browser}}{{#current}} <span class="status">this browser</span>{{/current}}</td><td data-label="Signed in">{{created}}</td>
        <td data-label="How">{{method}}{{#weak}} <span class="status warn">look only</span>{{/weak}}</td><td data-label="Last seen">{{lastSeen}}</td><td data-label="Address">{{address}}</td>
        <td data-label=""><a href="/settings/sessions/{{id}}/end" class="end-session" aria-label="{{#current}}Sign out of this browser{{/current}}{{^current}}End the session of {{browser}} signed in {{created}}{{/current}}">{{#current}}Sign out…{{/current}}{{^current}}End…{{/current}}</a></td></tr>
        {{/sessions}}
        </tbody>
        </table></div>
        <h2>Sign out everywhere</h2>
        <p>Ends every session of yours{{#others}}, on this browser and the others{{/others}}, and takes back access from the applications you authorized — for when you lost a device or think someone else signed in.</p>
        <a class="button danger" id="end-all" href="/settings/sessions/end-all">Sign out everywhere…</a>
        """

    static let settingsSessionEnd = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">{{#current}}Sign out of this browser?{{/current}}{{^current}}End this session?{{/current}}</h1>
        <p>{{browser}} at {{address}}, signed in {{created}} ({{method}}), last seen {{lastSeen}}.</p>
        <p>{{#current}}You will sign in again to use the console here.{{/current}}{{^current}}That browser is signed out at once; whoever uses it signs in again to get back in.{{/current}}</p>
        <form method="post" action="/settings/sessions/{{id}}/end">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-end">{{#current}}Sign out{{/current}}{{^current}}End the session{{/current}}</button><a class="button secondary" href="/settings/sessions">Keep it</a></div>
        </form>
        </section>
        """

    static let settingsSessionsEndAll = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Sign out everywhere?</h1>
        <p>Your {{#several}}{{count}} sessions end{{/several}}{{^several}}session ends{{/several}} at once, this browser's included: you will sign in again here, and on every other browser you use.</p>
        {{#hasApps}}<p>As signing out does, this also revokes {{#oneApp}}the application{{/oneApp}}{{^oneApp}}the {{apps}} applications{{/oneApp}} you authorized to use your services (MCP clients); authorize {{#oneApp}}it{{/oneApp}}{{^oneApp}}them{{/oneApp}} again after signing in.</p>{{/hasApps}}
        {{^hasApps}}<p>As signing out does, this also revokes any application you authorized to use your services; you have none at the moment.</p>{{/hasApps}}
        <form method="post" action="/settings/sessions/end-all">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-end-all">Sign out everywhere</button><a class="button secondary" href="/settings/sessions">Stay signed in</a></div>
        </form>
        </section>
        """
}
