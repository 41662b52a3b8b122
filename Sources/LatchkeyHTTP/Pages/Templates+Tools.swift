extension Templates {
    /// What a tool tried in the Connection Center returned: its JSON, or the error the API would give, with its
    /// next step as a link.
    static let toolResult = """
        <section class="card" aria-labelledby="heading">
        <h1 id="heading">{{title}}</h1>
        <p class="meta">The tool <code>{{tool}}</code>, called on your {{service}} account as an agent would call it.</p>
        {{#result}}<p class="meta" id="tool-meta">{{meta}}</p>
        <pre id="tool-result" tabindex="0" aria-label="The tool's result as JSON">{{result}}</pre>{{/result}}
        {{#error}}<div class="error" role="alert" id="tool-error" data-code="{{code}}">{{error}}</div>
        {{#actionURL}}<p><a href="{{actionURL}}" id="tool-action">What to do next</a></p>{{/actionURL}}{{/error}}
        <p><a href="/connections" id="back">Back to your connections</a></p>
        </section>
        """
}
