extension Migrations {
    /// The steps of notices to people: when a person was told that a credential of theirs needs reconnecting.
    static let noticeSteps: [Step] = [
        Step(
            version: 30,
            name: "notices: when the owner of a credential needing re-authorization was emailed",
            statements: [
                "ALTER TABLE credentials ADD COLUMN reauth_notified_at {bigint}",
                "CREATE INDEX credentials_reauth_notice ON credentials (status, reauth_notified_at)",
            ]
        )
    ]
}
