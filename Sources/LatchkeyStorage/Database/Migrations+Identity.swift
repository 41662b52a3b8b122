extension Migrations {
    /// The steps of identities: the ways a person signs in (single sign-on, passkeys, email codes, the second factor),
    /// link codes and browser sessions.
    static let identitySteps: [Step] = [
        Step(
            version: 18,
            name: "identities: the ways a person signs in or is known, and how strong each session is",
            statements: [
                """
                CREATE TABLE identities (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  user_id TEXT NOT NULL REFERENCES users(id), method TEXT NOT NULL, provider TEXT NOT NULL, subject TEXT NOT NULL,
                  display_name TEXT, email TEXT, app_id TEXT, created_at {bigint} NOT NULL, last_used_at {bigint},
                  UNIQUE (tenant_id, provider, subject))
                """,
                "CREATE INDEX identities_user ON identities (user_id)",
                """
                INSERT INTO identities (id, tenant_id, user_id, method, provider, subject, display_name, email, created_at)
                SELECT 'idn_' || id, tenant_id, id, 'password', 'password', id, email, email, created_at FROM users
                WHERE password_hash IS NOT NULL
                """,
                "ALTER TABLE web_sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password'",
                "ALTER TABLE web_sessions ADD COLUMN strength TEXT NOT NULL DEFAULT 'strong'",
                "ALTER TABLE web_sessions ADD COLUMN identity_id TEXT",
            ]
        ),
        Step(
            version: 19,
            name: "single sign-on: which integrations sign people in, and their sign-ins under way",
            statements: [
                """
                CREATE TABLE sign_in_providers (tenant_id TEXT NOT NULL REFERENCES tenants(id), integration_key TEXT NOT NULL,
                  enabled {bigint} NOT NULL, create_users {bigint} NOT NULL, allowed_domains TEXT NOT NULL,
                  created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL, PRIMARY KEY (tenant_id, integration_key))
                """,
                """
                CREATE TABLE sign_in_provider_flows (state_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  integration_key TEXT NOT NULL, browser_binding TEXT NOT NULL, nonce TEXT NOT NULL, link_user_id TEXT,
                  next TEXT NOT NULL, created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL)
                """,
                "CREATE INDEX sign_in_provider_flows_expiry ON sign_in_provider_flows (expires_at)",
            ]
        ),
        Step(
            version: 20,
            name: "passkeys, and the WebAuthn challenges any instance can finish",
            statements: [
                """
                CREATE TABLE passkeys (tenant_id TEXT NOT NULL REFERENCES tenants(id), credential_id TEXT NOT NULL,
                  user_id TEXT NOT NULL, identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
                  user_handle TEXT NOT NULL, public_key {blob} NOT NULL, sign_count {bigint} NOT NULL, name TEXT NOT NULL,
                  created_at {bigint} NOT NULL, last_used_at {bigint}, PRIMARY KEY (tenant_id, credential_id))
                """,
                "CREATE INDEX passkeys_user ON passkeys (user_id)",
                "CREATE INDEX passkeys_identity ON passkeys (identity_id)",
                """
                CREATE TABLE webauthn_challenges (challenge_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT,
                  user_handle TEXT, ceremony TEXT NOT NULL, created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL)
                """,
                "CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at)",
            ]
        ),
        Step(
            version: 21,
            name: "email sign-in codes and the TOTP second factor",
            statements: [
                """
                CREATE TABLE email_codes (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), address_key TEXT NOT NULL,
                  client_key TEXT NOT NULL, user_id TEXT, code_hash TEXT, created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL,
                  failures INTEGER NOT NULL DEFAULT 0, used_at {bigint})
                """,
                "CREATE INDEX email_codes_address ON email_codes (tenant_id, address_key, created_at)",
                "CREATE INDEX email_codes_client ON email_codes (client_key, created_at)",
                """
                CREATE TABLE totp_secrets (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), user_id TEXT NOT NULL UNIQUE,
                  secret {blob} NOT NULL, key_version INTEGER NOT NULL, created_at {bigint} NOT NULL, enabled_at {bigint}, last_step {bigint})
                """,
                """
                CREATE TABLE totp_challenges (id_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  user_id TEXT NOT NULL, browser_key TEXT NOT NULL, next TEXT NOT NULL, expires_at {bigint} NOT NULL,
                  failures INTEGER NOT NULL DEFAULT 0)
                """,
                "CREATE INDEX totp_challenges_expiry ON totp_challenges (expires_at)",
            ]
        ),
        Step(
            version: 22,
            name: "link_codes: the short-lived codes that link an app's user (a WEAK identity) to a person",
            statements: [
                """
                CREATE TABLE link_codes (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), app_id TEXT NOT NULL,
                  provider TEXT NOT NULL, subject TEXT NOT NULL, display_name TEXT, lookup_hash TEXT NOT NULL, code_hash TEXT NOT NULL,
                  created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL, used_at {bigint}, failed_attempts INTEGER NOT NULL DEFAULT 0)
                """,
                "CREATE INDEX link_codes_lookup ON link_codes (tenant_id, lookup_hash)",
                "CREATE INDEX link_codes_subject ON link_codes (tenant_id, app_id, provider, subject)",
            ]
        ),
        Step(
            version: 23,
            name: "sessions: a public id per browser session, for the person's list of sessions",
            statements: [
                "ALTER TABLE web_sessions ADD COLUMN public_id TEXT",
                "UPDATE web_sessions SET public_id = 'ses_' || lower(hex(randomblob(12)))",
                "CREATE UNIQUE INDEX web_sessions_public ON web_sessions (public_id)",
            ],
            postgres: [
                "ALTER TABLE web_sessions ADD COLUMN public_id TEXT",
                "UPDATE web_sessions SET public_id = 'ses_' || substr(md5(random()::text || clock_timestamp()::text || id_hash), 1, 24)",
                "CREATE UNIQUE INDEX web_sessions_public ON web_sessions (public_id)",
            ]
        ),
    ]
}
