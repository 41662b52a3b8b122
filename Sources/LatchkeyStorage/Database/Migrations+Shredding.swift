extension Migrations {
    /// The steps of crypto-shredding: each person's audit key, which erasure destroys.
    static let shreddingSteps: [Step] = [
        Step(
            version: 35,
            name: "audit person keys: the identifiers of a person in audit events are sealed under a key of theirs that erasure destroys",
            statements: [
                """
                CREATE TABLE audit_person_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, person_id TEXT NOT NULL,
                  sealed_key {blob} NOT NULL, key_version {bigint} NOT NULL, created_at {bigint} NOT NULL, UNIQUE (tenant_id, person_id))
                """,
                "CREATE INDEX audit_person_keys_key_version ON audit_person_keys (key_version, id)",
            ]
        )
    ]
}
