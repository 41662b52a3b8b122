extension Templates {
    /// The pages of passkeys, by name. The sign-in page shows `login-passkey` below the password form (values from the method's `LoginPageOptions`).
    static let passkeys: [(String, String)] = [
        ("login-passkey", loginPasskey),
        ("passkeys", passkeysPage),
        ("passkey-remove", passkeyRemove),
    ]

    /// Hidden until the script finds a browser that can use passkeys (a `div`: the stylesheet shows every button);
    /// without JavaScript the note says so.
    static let loginPasskey = """
        {{#passkeySignIn}}<div class="passkey-sign-in">
        <h2 id="passkey-heading">Or use a passkey</h2>
        <p class="meta" id="passkey-unavailable">Signing in with a passkey needs JavaScript in this browser. Without it, sign in with your email and password.</p>
        <div class="error" role="alert" id="passkey-error" hidden></div>
        <div id="passkey-sign-in-box" hidden><button type="button" class="secondary" id="passkey-sign-in" data-options="/login/passkey/options" data-action="/login/passkey">Sign in with a passkey</button></div>
        </div>
        <script src="/assets/passkeys.js"></script>{{/passkeySignIn}}
        """

    static let passkeysPage = """
        <h1 id="heading">Passkeys</h1>
        <p class="meta">A passkey signs you in with your device's fingerprint, face or PIN instead of a password. It stays on your device (or in its password manager); this server keeps only its public half.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <h2>Add a passkey</h2>
        <p class="meta" id="passkey-unavailable">Adding a passkey needs JavaScript in this browser: your device creates it when the page asks.</p>
        <div class="error" role="alert" id="passkey-error" hidden></div>
        <form method="post" action="/settings/passkeys" id="passkey-add" data-options="/settings/passkeys/options" hidden>
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="passkey-name">Name <span class="hint">(the device it is on, e.g. "Work laptop")</span></label>
        <input id="passkey-name" name="name" maxlength="{{maximumNameLength}}" autofocus>
        <button type="submit" id="add-passkey">Add a passkey</button>
        </form>
        <h2>Your passkeys</h2>
        {{^passkeys}}<p class="meta">You have no passkey yet.</p>{{/passkeys}}
        {{#passkeys}}<section class="card passkey" data-passkey-id="{{id}}" aria-label="Passkey {{name}}">
        <h3>{{name}}</h3>
        <p class="meta">Added {{created}} · last used {{lastUsed}}</p>
        <form method="post" action="/settings/passkeys/{{id}}/rename">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="rename-{{id}}">New name</label>
        <input id="rename-{{id}}" name="name" maxlength="100" required value="{{renameValue}}"{{#renameError}} aria-invalid="true" aria-describedby="rename-{{id}}-error"{{/renameError}}>
        {{#renameError}}<p class="field-error" id="rename-{{id}}-error">{{renameError}}</p>{{/renameError}}
        <div class="actions"><button type="submit" class="secondary">Rename</button><a href="/settings/passkeys/{{id}}/remove">Remove…</a></div>
        </form>
        </section>{{/passkeys}}
        <script src="/assets/passkeys.js"></script>
        """

    static let passkeyRemove = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Remove the passkey “{{name}}”?</h1>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <p>It stops signing you in at once. The passkey stays on your device until you delete it there.</p>
        <form method="post" action="/settings/passkeys/{{id}}/remove">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <div class="actions"><button type="submit" class="danger" id="confirm-remove">Remove the passkey</button><a class="button secondary" href="/settings/passkeys">Keep it</a></div>
        </form>
        </section>
        """
}
