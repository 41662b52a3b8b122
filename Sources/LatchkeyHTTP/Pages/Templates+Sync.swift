extension Templates {
    /// One Connection's console page: its health and its reference-data sync per dataset.
    static let sync: [(String, String)] = [("admin-connection", adminConnection)]

    static let adminConnection = """
        <p class="meta"><a href="/admin/connections">Connections and health</a></p>
        <h1 id="heading">{{name}}</h1>
        {{#flash}}<div class="flash" role="status">{{flash}}</div>{{/flash}}
        <p class="meta">Health: <span class="status{{#problem}} warn{{/problem}}" id="connection-health">{{health}}</span>{{#reasons}} · {{reasons}}{{/reasons}}
         · {{active}} connected, {{needsReauth}} to reconnect, {{expired}} expired · App: <a href="/admin/apps/{{appID}}">{{appName}}</a></p>
        <h2 id="sync-heading">Reference data</h2>
        <p class="meta">Datasets kept for each connected account, fetched in the background. Sync may use
        <span id="budget-share">{{budgetPercent}}%</span> of this connection's rate budget (<code>budgetFraction</code>); datasets, intervals and
        the share are set with <code>PUT /api/v1/connections/{{id}}/sync</code>.</p>
        {{^hasDatasets}}<p class="meta" id="no-datasets">No dataset is synced for this connection.</p>{{/hasDatasets}}
        {{#hasDatasets}}
        <table aria-labelledby="sync-heading">
        <thead><tr><th scope="col">Dataset</th><th scope="col">Sync</th><th scope="col">Jobs</th><th scope="col">Records</th><th scope="col">Last success</th><th scope="col">Next run</th><th scope="col">Last error</th></tr></thead>
        <tbody>
        {{#datasets}}
        <tr class="dataset-health" data-dataset="{{dataset}}"><td data-label="Dataset">{{title}} <code>{{dataset}}</code></td>
        <td data-label="Sync">{{#enabled}}every {{every}}{{/enabled}}{{^enabled}}off{{/enabled}}</td>
        <td data-label="Jobs"><span class="jobs-ok">{{ok}} ok</span>, <span class="jobs-failed{{#failing}} status warn{{/failing}}">{{failed}} failed</span>,
        <span class="jobs-paused">{{paused}} paused</span>, <span class="jobs-pending">{{pending}} waiting</span></td>
        <td data-label="Records" class="records">{{records}}</td>
        <td data-label="Last success" class="last-success">{{lastSuccess}}</td>
        <td data-label="Next run" class="next-run">{{nextRun}}</td>
        <td data-label="Last error" class="last-error">{{lastError}}</td></tr>
        {{/datasets}}
        </tbody>
        </table>
        <form method="post" action="/admin/connections/{{id}}/sync-now">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" id="sync-now">Sync now</button>
        <span class="hint">Runs every account's jobs at the next pass, within the rate budget.</span>
        </form>
        {{/hasDatasets}}
        """
}
