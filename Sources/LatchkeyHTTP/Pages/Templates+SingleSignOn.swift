extension Templates {
    /// The pages of single sign-on and social sign-in, by name. The sign-in page shows `login-single-sign-on` below the password form (values from the method's `LoginPageOptions`).
    static let singleSignOn: [(String, String)] = [
        ("login-single-sign-on", loginSingleSignOn),
        ("sso-continue", ssoContinue),
        ("admin-sign-in", adminSignIn),
    ]

    static let loginSingleSignOn = """
        {{#ssoAny}}<div class="sso" aria-label="Other ways to sign in" role="group">
        {{#ssoProviders}}<a class="button secondary sso-provider" data-integration="{{key}}" href="{{href}}">{{label}}</a>
        {{/ssoProviders}}</div>{{/ssoAny}}
        """

    /// On the way to a provider from a form whose page could not name the provider in its policy.
    static let ssoContinue = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">Continue to {{ssoName}}</h1>
        <p>You are being taken to {{ssoName}} to prove it is you. If nothing happens, use the button.</p>
        <a class="button" id="continue" href="{{ssoURL}}">Continue</a>
        <p><a href="/settings/identities">Back to your settings</a></p>
        </section>
        """

    static let adminSignIn = """
        <h1 id="heading">Sign-in</h1>
        <p class="meta">Integrations that let people sign in to this console: single sign-on with an OpenID Connect provider, or social sign-in with a provider whose user-info says who the person is (such as GitHub). Register <code id="redirect-uri">{{ssoRedirectURI}}</code> as a redirect URI at the provider, besides the integration's connect callback.</p>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        {{#ssoError}}<div class="error" role="alert">{{ssoError}}</div>{{/ssoError}}
        {{#ssoSummary}}<div class="error" role="alert">The settings were not saved: {{ssoSummary}}</div>{{/ssoSummary}}
        {{^ssoAnyRows}}<p>No integration can sign people in yet. Add an OpenID Connect integration (with its discovery URL) or a social one such as GitHub under <a href="/admin/integrations">Integrations</a> first.</p>{{/ssoAnyRows}}
        {{#ssoAnyRows}}<div class="scroll"><table>
        <thead><tr><th scope="col">Integration</th><th scope="col">Kind</th><th scope="col">Sign-in</th></tr></thead>
        <tbody>{{#ssoRows}}<tr class="sign-in-provider" data-integration="{{key}}"><td data-label="Integration">{{name}} <span class="meta">({{key}})</span></td><td data-label="Kind">{{kind}}</td><td data-label="Sign-in">{{status}}</td></tr>{{/ssoRows}}</tbody>
        </table></div>{{/ssoAnyRows}}
        {{#ssoRows}}
        <h2 id="provider-{{key}}">{{name}}</h2>
        {{#problem}}<p class="error">{{problem}}</p>{{/problem}}
        <form method="post" action="/admin/sign-in/{{key}}" class="tile" aria-labelledby="provider-{{key}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <fieldset><legend>Signing in with {{name}}</legend>
        <label for="enabled-{{key}}"><input id="enabled-{{key}}" name="enabled-{{key}}" type="checkbox" value="1" style="width:auto"{{#enabled}} checked{{/enabled}}> People can sign in with {{name}}</label>
        <label for="create-{{key}}"><input id="create-{{key}}" name="createUsers-{{key}}" type="checkbox" value="1" style="width:auto"{{#createUsers}} checked{{/createUsers}}> Create an account (a member without a password) for someone {{name}} vouches for who has none here</label>
        </fieldset>
        <label for="domains-{{key}}">Email domains accounts are created for <span class="hint">(separated by spaces; empty: any)</span></label>
        <input id="domains-{{key}}" name="domains" type="text" value="{{domains}}" placeholder="example.com"{{#error}} autofocus aria-invalid="true" aria-describedby="domains-{{key}}-error"{{/error}}>
        {{#error}}<p class="error" id="domains-{{key}}-error">{{error}}</p>{{/error}}
        <button type="submit" class="secondary">Save {{name}}</button>
        </form>
        {{/ssoRows}}
        """
}
