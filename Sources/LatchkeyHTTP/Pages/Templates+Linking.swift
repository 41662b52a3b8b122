extension Templates {
    /// The pages of link codes (an app's user linked to a person), by name.
    static let linking: [(String, String)] = [
        ("link", link)
    ]

    /// `/link`: the code a chat app gave the person, typed to link that app's account to theirs.
    static let link = """
        <section class="card link-code" aria-labelledby="heading">
        <h1 id="heading">Link a chat account</h1>
        {{#flash}}<div class="flash" role="status" id="link-done">{{flash}}</div>{{/flash}}
        <p>A chat app, such as a Slack bot, asked you to link your account and gave you a code like <strong>ABC-123</strong>. Enter it here: the app can then use the services you connected, as you, {{userName}}.</p>
        {{#weak}}<p class="meta">You are signed in through an app. To link an account you will be asked to sign in with your own password or another way to sign in first.</p>{{/weak}}
        {{#error}}<div class="error" role="alert">The account was not linked: {{error}}</div>{{/error}}
        <form method="post" action="/link" class="label-form" aria-labelledby="heading">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="code">Code <span class="hint">(three letters and three digits; it works for 10 minutes)</span></label>
        <input id="code" name="code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" required autofocus value="{{code}}"{{#error}} aria-invalid="true" aria-describedby="code-error"{{/error}}>
        {{#error}}<p class="error" id="code-error">{{error}}</p>{{/error}}
        <button type="submit">Link account</button>
        </form>
        <p class="meta">Only enter a code you asked for yourself, in your own chat: the chat account whose code you enter can then act as you.</p>
        </section>
        """
}
