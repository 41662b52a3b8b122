extension Migrations {
    /// The steps of reference-data sync: per-Connection settings, per-credential jobs and the sealed records.
    static let syncSteps: [Step] = [
        Step(
            version: 40,
            name: "reference-data sync: settings per Connection, leased jobs and sealed records per credential",
            statements: [
                """
                CREATE TABLE sync_settings (connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
                  dataset TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id), enabled {bigint} NOT NULL,
                  interval_seconds {bigint} NOT NULL, updated_at {bigint} NOT NULL, PRIMARY KEY (connection_id, dataset))
                """,
                """
                CREATE TABLE sync_jobs (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
                  credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE, dataset TEXT NOT NULL,
                  status TEXT NOT NULL, lease_owner TEXT, lease_until {bigint}, next_run_at {bigint} NOT NULL, last_run_at {bigint},
                  last_success_at {bigint}, last_error TEXT, failures {bigint} NOT NULL, record_count {bigint} NOT NULL,
                  run {bigint} NOT NULL, page_cursor TEXT, since TEXT, created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL,
                  UNIQUE (credential_id, dataset))
                """,
                "CREATE INDEX sync_jobs_due ON sync_jobs (next_run_at)",
                "CREATE INDEX sync_jobs_connection ON sync_jobs (connection_id, dataset)",
                """
                CREATE TABLE sync_records (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE, dataset TEXT NOT NULL,
                  record_key TEXT NOT NULL, payload {blob} NOT NULL, key_version {bigint} NOT NULL, run {bigint} NOT NULL,
                  updated_at {bigint} NOT NULL, UNIQUE (credential_id, dataset, record_key))
                """,
            ]
        )
    ]
}
