extension Migrations {
    /// The steps of roles: administrators, auditors (who read everything and change nothing) and members.
    static let roleSteps: [Step] = [
        Step(
            version: 34,
            name: "roles: a console user or an admin key is an administrator, an auditor or (users only) a member",
            statements: [
                // `is_admin` stays, kept equal to `role = 'admin'`, so that an older binary still reads who is an administrator.
                "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member'",
                "UPDATE users SET role = 'admin' WHERE is_admin = 1",
                "ALTER TABLE admin_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'",
            ]
        )
    ]
}
