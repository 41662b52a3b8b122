extension Migrations {
    /// The operations side of reference-data sync: each Connection's share of its rate budget for sync, and the pages
    /// a run fetched across the passes it took (reported by `sync.completed`).
    static let syncOperationSteps: [Step] = [
        Step(
            version: 41,
            name: "reference-data sync: budget fraction per Connection, pages per run",
            statements: [
                """
                CREATE TABLE sync_connection_settings (connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
                  tenant_id TEXT NOT NULL REFERENCES tenants(id), budget_fraction DOUBLE PRECISION NOT NULL, updated_at {bigint} NOT NULL)
                """,
                "ALTER TABLE sync_jobs ADD COLUMN run_pages {bigint} NOT NULL DEFAULT 0",
            ]
        )
    ]
}
