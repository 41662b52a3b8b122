extension Templates {
    /// The pages of email codes and the TOTP second factor, by name. The sign-in page shows `login-email-code` below the password form (values from the method's `LoginPageOptions`).
    static let emailCodes: [(String, String)] = [
        ("login-email-code", loginEmailCode),
        ("email-code-request", emailCodeRequest),
        ("email-code-enter", emailCodeEnter),
        ("two-factor-sign-in", twoFactorSignIn),
        ("two-factor-settings", twoFactorSettings),
    ]

    static let loginEmailCode = """
        {{#emailCodeOffered}}<p class="alternative"><a id="email-code" href="{{emailCodeHref}}">Email me a sign-in code</a></p>{{/emailCodeOffered}}
        """

    static let emailCodeRequest = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Sign in with a code by email</h1>
        <p>Enter the address of your account. We send it a 6-digit code that signs you in once, within 10 minutes.</p>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/login/email">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        {{#tenant}}<input type="hidden" name="tenant" value="{{tenant}}">{{/tenant}}
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required autofocus value="{{email}}"{{#emailError}} aria-invalid="true" aria-describedby="email-error"{{/emailError}}>
        {{#emailError}}<p class="error" id="email-error">{{emailError}}</p>{{/emailError}}
        <button type="submit" id="send-code">Send me a code</button>
        </form>
        <p><a href="{{loginHref}}">Sign in with your password instead</a></p>
        </section>
        """

    static let emailCodeEnter = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Enter the code from your email</h1>
        {{#sent}}<div class="flash" role="status" id="code-sent">If there is an account for that address, we sent a code to it. It works once, for 10 minutes.</div>{{/sent}}
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/login/email/code">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        {{#tenant}}<input type="hidden" name="tenant" value="{{tenant}}">{{/tenant}}
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}"{{^email}} autofocus{{/email}}>
        <label for="code">Code <span class="hint">(6 digits)</span></label>
        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="off" pattern="[0-9 ]*" maxlength="12" required{{#email}} autofocus{{/email}}{{#codeError}} aria-invalid="true" aria-describedby="code-error"{{/codeError}}>
        {{#codeError}}<p class="error" id="code-error">{{codeError}}</p>{{/codeError}}
        <button type="submit" id="check-code">Sign in</button>
        </form>
        <p><a href="{{requestHref}}" id="new-code">Send a new code</a> · <a href="{{loginHref}}">Sign in with your password</a></p>
        </section>
        """

    static let twoFactorSignIn = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Enter your authenticator code</h1>
        <p>Your password was right. Open the authenticator app you set up for this account and enter the 6-digit code it shows now.</p>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        {{#active}}<form method="post" action="/login/two-factor">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="code">Code <span class="hint">(6 digits)</span></label>
        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="off" pattern="[0-9 ]*" maxlength="12" required autofocus{{#error}} aria-invalid="true" aria-describedby="code-error"{{/error}}>
        {{#error}}<p class="error" id="code-error">{{error}}</p>{{/error}}
        <button type="submit" id="check-code">Sign in</button>
        </form>{{/active}}
        <p><a href="{{loginHref}}" id="start-again">Start again</a></p>
        </section>
        """

    static let twoFactorSettings = """
        <h1 id="heading">Two-factor sign-in</h1>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#enabled}}
        <p id="two-factor-status">Two-factor sign-in is <strong>on</strong>: after your password, you enter the code your authenticator app shows.</p>
        <p id="two-factor-scope">It guards your password only: a passkey, single sign-on or a code sent to your email address signs you in without it.</p>
        <h2 id="disable-heading">Turn it off</h2>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/settings/two-factor/disable" aria-labelledby="disable-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="code">Current code <span class="hint">(from your authenticator app)</span></label>
        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="off" pattern="[0-9 ]*" maxlength="12" required{{#error}} autofocus aria-invalid="true" aria-describedby="code-error"{{/error}}>
        {{#error}}<p class="error" id="code-error">{{error}}</p>{{/error}}
        <button type="submit" class="danger" id="disable-two-factor">Turn two-factor sign-in off</button>
        </form>
        {{/enabled}}
        {{^enabled}}
        <p id="two-factor-status">Two-factor sign-in is <strong>off</strong>. Turn it on to be asked, after your password, for a code from an authenticator app on your phone.</p>
        <p id="two-factor-scope">It guards your password only: a passkey, single sign-on or a code sent to your email address signs you in without it.</p>
        <h2 id="setup-heading">Set it up</h2>
        <ol>
        <li>In your authenticator app, add an account with this key (or open the link on the phone that has the app):
        <p class="secret" id="totp-secret">{{secret}}</p>
        <p><a href="{{uri}}" id="totp-uri">{{uri}}</a></p></li>
        <li>Enter the 6-digit code the app shows to turn it on.</li>
        </ol>
        {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
        <form method="post" action="/settings/two-factor/enable" aria-labelledby="setup-heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="code">Code <span class="hint">(6 digits)</span></label>
        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="off" pattern="[0-9 ]*" maxlength="12" required{{#error}} autofocus aria-invalid="true" aria-describedby="code-error"{{/error}}>
        {{#error}}<p class="error" id="code-error">{{error}}</p>{{/error}}
        <button type="submit" id="enable-two-factor">Turn two-factor sign-in on</button>
        </form>
        {{/enabled}}
        """
}
