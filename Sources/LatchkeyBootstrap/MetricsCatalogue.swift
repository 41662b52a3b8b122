/// Every metric Latchkey exports, in one table: its name as the code records it, the help text `/metrics` shows, and
/// the dimension values it is exported with from start (at 0), so that dashboards and alerts see a series before its
/// first event. Metrics whose dimension values come from traffic (routes, key versions) get their help text when
/// their first series appears.
public enum MetricsCatalogue {
    /// What kind of swift-metrics instrument records the metric.
    public enum Kind: Sendable { case counter, gauge, timer, histogram, meter }

    /// One metric.
    public struct Entry: Sendable {
        /// The label the code passes to swift-metrics (`.` becomes `_` in the exported name).
        public let label: String
        /// The instrument the code records it with.
        public let kind: Kind
        /// The `# HELP` text.
        public let help: String
        /// The series exported from start: one dimension list each (`[[]]` for a metric without dimensions, `[]` for
        /// none).
        public let initial: [[(String, String)]]
        /// Histogram buckets when they differ from the default.
        public let buckets: [Double]?

        init(_ label: String, _ kind: Kind, _ help: String, initial: [[(String, String)]], buckets: [Double]? = nil) {
            self.label = label
            self.kind = kind
            self.help = help
            self.initial = initial
            self.buckets = buckets
        }
    }

    static let triggers = ["on_demand", "proactive", "forced"]
    /// `latchkey_refresh_failures_total{reason}`: the reasons the refresher records.
    public static let refreshFailureReasons = ["transient", "needs_reauth", "invalid_client", "bad_response", "outbound_policy", "circuit_open"]
    /// `open` fails when a stored secret cannot be decrypted (wrong or lost data key, altered ciphertext).
    static let vaultOperations = ["create", "reveal", "update", "delete", "open"]
    static let webhookResults = ["delivered", "failed", "dead"]

    /// The catalogue.
    public static let entries: [Entry] = [
        Entry(
            "latchkey_refresh_attempts_total",
            .counter,
            "Token refreshes sent to a provider, by trigger (on_demand: a caller asked; proactive: the background refresher; forced: the provider refused the token on a proxied call).",
            initial: triggers.map { [("trigger", $0)] }
        ),
        Entry(
            "latchkey_refresh_successes_total",
            .counter,
            "Token refreshes that stored a new access token, by trigger.",
            initial: triggers.map { [("trigger", $0)] }
        ),
        Entry(
            "latchkey_refresh_failures_total",
            .counter,
            "Token refreshes that failed, by reason (transient, needs_reauth, invalid_client, bad_response, outbound_policy, circuit_open).",
            initial: refreshFailureReasons.map { [("reason", $0)] }
        ),
        Entry(
            "latchkey_refresh_lag_seconds",
            .histogram,
            "Seconds between a token's planned proactive refresh time and its refresh.",
            initial: [[]],
            // Refresh lag is usually well under a poll interval: buckets that can tell 100 ms from 1 s.
            buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900]
        ),
        Entry("latchkey_circuit_open", .gauge, "1 while refresh calls to an integration's provider are paused (circuit open), else 0.", initial: []),
        Entry("latchkey_circuit_opened_total", .counter, "Times an integration's circuit opened, by integration.", initial: []),
        Entry("latchkey_refresh_duration_seconds", .timer, "Seconds a token refresh took, provider call included.", initial: [[]]),
        Entry(
            "latchkey_vault_operations_total",
            .counter,
            "Credential vault operations, by operation (create, reveal, update, delete; open: decrypting a stored secret, counted when it fails) and result (success, failure).",
            initial: vaultOperations.flatMap { operation in ["success", "failure"].map { [("operation", operation), ("result", $0)] } }
        ),
        Entry("latchkey_key_rewrap_rows_total", .counter, "Credential rows re-wrapped under the active data key.", initial: [[]]),
        Entry("latchkey_encrypted_rows", .gauge, "Encrypted credential rows, by data key version.", initial: []),
        Entry("latchkey_active_data_key_version", .gauge, "The data key version new writes use.", initial: []),
        Entry("latchkey_data_key_age_seconds", .gauge, "Seconds since the active data key was created (checked hourly).", initial: []),
        Entry(
            "latchkey_key_rotation_overdue",
            .gauge,
            "1 when the active data key is more than a day past its scheduled rotation (LATCHKEY_KEY_ROTATION_DAYS), else 0.",
            initial: []
        ),
        Entry(
            "latchkey_webhook_deliveries_total",
            .counter,
            "Webhook delivery attempts, by result (delivered; failed: will be retried; dead: gave up).",
            initial: webhookResults.map { [("result", $0)] }
        ),
        Entry("latchkey_database_reachable", .gauge, "1 while the database answers; 0 during an outage (degraded mode).", initial: []),
        Entry(
            "latchkey_audit_events_held",
            .gauge,
            "Audit events held in memory while the database is unreachable, written when it returns.",
            initial: []
        ),
        Entry(
            "latchkey_degraded_handouts_total",
            .counter,
            "Credentials handed out from what this instance resolved lately because the database did not answer.",
            initial: [[]]
        ),
        Entry(
            "latchkey_gateway_calls_total",
            .counter,
            "Calls through the gateway (proxy and tools), by provider (integration key), tool (empty for proxy calls) and outcome (ok, provider_4xx, provider_5xx, or the error code the caller got).",
            initial: []
        ),
        Entry(
            "latchkey_gateway_call_duration_seconds",
            .histogram,
            "Seconds a call through the gateway took, provider call included, by provider, tool and outcome.",
            initial: [],
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
        ),
        Entry("latchkey_rate_limit_admitted_total", .counter, "Calls admitted by the fair rate limiter, by integration.", initial: []),
        Entry(
            "latchkey_rate_limit_throttled_total",
            .counter,
            "Calls refused with rate_limited by the fair rate limiter, by integration and reason (over_fair_share, budget_exhausted, provider_limit).",
            initial: []
        ),
        Entry(
            "latchkey_rate_budget_used_ratio",
            .gauge,
            "Share of the rate budget used in the current window on this instance, by integration (the busiest Connection); alert when near 1.",
            initial: []
        ),
        Entry(
            "latchkey_gateway_circuit_refusals_total",
            .counter,
            "Calls refused with provider_unavailable because the integration's circuit was open, by integration.",
            initial: []
        ),
        Entry(
            "latchkey_sync_runs_total",
            .counter,
            "Reference-data sync runs, by dataset and outcome (completed; failed: retried with backoff; paused: the account must be reconnected; deferred: held back by the rate budget, the provider's limit or a long walk).",
            initial: []
        ),
        Entry("latchkey_sync_pages_total", .counter, "Pages reference-data sync fetched (one provider call each), by dataset.", initial: []),
        Entry(
            "latchkey_sync_records_total",
            .counter,
            "Reference-data records, by dataset and change (upserted: every record of every page fetched; removed: no longer listed after a full run).",
            initial: []
        ),
        Entry(
            "latchkey_sync_run_duration_seconds",
            .histogram,
            "Seconds from a complete sync run's first page to its end (across the passes it took), by dataset.",
            initial: [],
            buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21600]
        ),
        Entry(
            "latchkey_sync_jobs",
            .gauge,
            "Reference-data sync jobs (one per credential and dataset) across the database, by status (pending, ok, failed, paused).",
            initial: []
        ),
        Entry(
            "latchkey_sync_jobs_overdue",
            .gauge,
            "Reference-data sync jobs due more than an hour ago that have not run (not paused, dataset on, account usable).",
            initial: []
        ),
        Entry("hb.requests", .counter, "HTTP requests, by route, method and status code.", initial: []),
        Entry("hb.request.errors", .counter, "HTTP requests that ended in an error, by route, method and status code.", initial: []),
        Entry("http.server.request.duration", .timer, "Seconds to answer an HTTP request, by route, method and status code.", initial: []),
        Entry("http.server.active_requests", .meter, "HTTP requests being answered now, by method.", initial: []),
    ]

    static let byLabel: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.label, $0) })

    /// The catalogue entry of a label, if it has one.
    public static func entry(for label: String) -> Entry? { byLabel[label] }
}
