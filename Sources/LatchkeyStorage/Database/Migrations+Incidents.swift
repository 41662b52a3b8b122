extension Migrations {
    /// The steps of incident response: revocation runs that survive a restart.
    static let incidentSteps: [Step] = [
        Step(
            version: 28,
            name: "incident revocation runs: scope, progress, cursor and outcome, resumable after a crash",
            statements: [
                """
                CREATE TABLE incident_jobs (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), scope TEXT NOT NULL,
                  integration_key TEXT, app_id TEXT, status TEXT NOT NULL, total {bigint} NOT NULL, processed {bigint} NOT NULL,
                  revoked {bigint} NOT NULL, not_supported {bigint} NOT NULL, revocation_failed {bigint} NOT NULL,
                  cursor_id TEXT NOT NULL, actor TEXT NOT NULL, error TEXT, lease_until {bigint}, started_at {bigint} NOT NULL,
                  updated_at {bigint} NOT NULL, finished_at {bigint})
                """,
                "CREATE INDEX incident_jobs_tenant ON incident_jobs (tenant_id, started_at)",
            ]
        )
    ]
}
