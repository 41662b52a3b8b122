extension Migrations {
    /// The steps of compliance: audit retention's signed checkpoints.
    static let complianceSteps: [Step] = [
        Step(
            version: 24,
            name: "audit retention: the signed checkpoint each tenant's chain is verified from once older events are pruned",
            statements: [
                """
                CREATE TABLE audit_checkpoints (tenant_id TEXT NOT NULL, seq {bigint} NOT NULL, hash TEXT NOT NULL,
                  pruned_before {bigint} NOT NULL, created_at {bigint} NOT NULL, pruned {bigint} NOT NULL, signature TEXT NOT NULL,
                  PRIMARY KEY (tenant_id, seq))
                """
            ]
        )
    ]
}
