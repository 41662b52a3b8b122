extension Templates {
    /// The pages of a person's sessions and linked accounts, by name.
    static let security: [(String, String)] = [
        ("settings-sessions", settingsSessions),
        ("settings-sessions-end-all", settingsSessionsEndAll),
    ]

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
        <td data-label=""><form method="post" action="/settings/sessions/{{id}}/end"><input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" class="secondary end-session" aria-label="{{#current}}Sign out of this browser{{/current}}{{^current}}End the session of {{browser}} signed in {{created}}{{/current}}">{{#current}}Sign out{{/current}}{{^current}}End{{/current}}</button></form></td></tr>
        {{/sessions}}
        </tbody>
        </table></div>
        <h2>Sign out everywhere</h2>
        <p>Ends every session of yours{{#others}}, on this browser and the others{{/others}}, and takes back access from the applications you authorized — for when you lost a device or think someone else signed in.</p>
        <a class="button danger" id="end-all" href="/settings/sessions/end-all">Sign out everywhere…</a>
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
