import Foundation
import LatchkeyCore
public import Logging
import SQLKit

/// The schema, as an ordered list of steps. Each step runs once, recorded in `schema_migrations`; on PostgreSQL an
/// advisory lock lets several instances start at the same time.
public enum Migrations {
    struct Step {
        let version: Int
        let name: String
        let statements: [String]
        /// Run instead of `statements` on PostgreSQL, where a step cannot be written once for both dialects.
        var postgres: [String]? = nil
    }

    /// Every step, in order. `{blob}` and `{bigint}` are the only dialect differences in the DDL.
    static let steps: [Step] =
        baseSteps + identitySteps + complianceSteps + incidentSteps + noticeSteps + roleSteps + shreddingSteps + syncSteps
        + syncOperationSteps

    /// The vault, apps, gateway and authorization server.
    static let baseSteps: [Step] = [
        Step(
            version: 1,
            name: "foundation",
            statements: [
                "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """
                CREATE TABLE keyring (purpose TEXT NOT NULL, version {bigint} NOT NULL, wrapped {blob} NOT NULL,
                  created_at {bigint} NOT NULL, PRIMARY KEY (purpose, version))
                """,
                """
                CREATE TABLE key_rewrap (id TEXT PRIMARY KEY, target_version {bigint} NOT NULL, cursor TEXT NOT NULL,
                  done {bigint} NOT NULL, total {bigint} NOT NULL, started_at {bigint} NOT NULL, updated_at {bigint} NOT NULL,
                  finished_at {bigint})
                """,
                "CREATE TABLE tenants (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at {bigint} NOT NULL)",
                """
                CREATE TABLE apps (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
                  kind TEXT NOT NULL, created_at {bigint} NOT NULL)
                """,
                "CREATE INDEX apps_tenant ON apps (tenant_id, kind)",
                """
                CREATE TABLE users (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), email TEXT NOT NULL,
                  display_name TEXT NOT NULL, password_hash TEXT, is_admin {bigint} NOT NULL, created_at {bigint} NOT NULL,
                  UNIQUE (tenant_id, email))
                """,
                """
                CREATE TABLE setup_tokens (token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL)
                """,
                """
                CREATE TABLE end_users (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  app_id TEXT NOT NULL REFERENCES apps(id), external_id TEXT NOT NULL, user_id TEXT, created_at {bigint} NOT NULL,
                  UNIQUE (app_id, external_id))
                """,
                """
                CREATE TABLE integrations (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), key TEXT NOT NULL,
                  provider TEXT NOT NULL, enabled {bigint} NOT NULL, client_id TEXT, client_secret {blob}, scopes TEXT NOT NULL,
                  settings TEXT NOT NULL, key_version {bigint}, version {bigint} NOT NULL, created_at {bigint} NOT NULL,
                  updated_at {bigint} NOT NULL, UNIQUE (tenant_id, key))
                """,
                """
                CREATE TABLE connections (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  app_id TEXT NOT NULL REFERENCES apps(id), integration_id TEXT NOT NULL REFERENCES integrations(id),
                  created_at {bigint} NOT NULL, UNIQUE (app_id, integration_id))
                """,
                """
                CREATE TABLE credentials (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  connection_id TEXT NOT NULL REFERENCES connections(id), end_user_id TEXT REFERENCES end_users(id),
                  type TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT, label TEXT, is_default {bigint} NOT NULL,
                  scopes TEXT NOT NULL, expires_at {bigint}, provider_account TEXT, connection_config TEXT NOT NULL, issued_by TEXT,
                  payload {blob} NOT NULL, key_version {bigint} NOT NULL, version {bigint} NOT NULL, connected_at {bigint} NOT NULL,
                  last_refreshed_at {bigint}, last_used_at {bigint}, created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL,
                  lease_owner TEXT, lease_until {bigint})
                """,
                "CREATE INDEX credentials_tenant ON credentials (tenant_id, id)",
                "CREATE INDEX credentials_owner ON credentials (connection_id, end_user_id)",
                "CREATE INDEX credentials_key_version ON credentials (key_version, id)",
                "CREATE INDEX credentials_expiry ON credentials (expires_at)",
                """
                CREATE TABLE admin_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
                  key_hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created_at {bigint} NOT NULL, last_used_at {bigint},
                  revoked_at {bigint})
                """,
                """
                CREATE TABLE audit_events (tenant_id TEXT NOT NULL, seq {bigint} NOT NULL, id TEXT NOT NULL, ts {bigint} NOT NULL,
                  actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT, service TEXT, tool TEXT, result TEXT NOT NULL, ip TEXT,
                  user_agent TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (tenant_id, seq))
                """,
                "CREATE TABLE audit_heads (tenant_id TEXT PRIMARY KEY, seq {bigint} NOT NULL, hash TEXT NOT NULL)",
            ]
        ),
        Step(
            version: 2,
            name: "one default credential per owner",
            statements: [
                "CREATE UNIQUE INDEX credentials_one_default ON credentials (connection_id, COALESCE(end_user_id, '')) WHERE is_default = 1"
            ]
        ),
        Step(
            version: 3,
            name: "connect: integrations, sign-in sessions, connect sessions",
            statements: [
                "ALTER TABLE integrations ADD COLUMN display_name TEXT",
                "ALTER TABLE credentials ADD COLUMN provider_account_id TEXT",
                "CREATE INDEX credentials_account ON credentials (connection_id, end_user_id, provider_account_id)",
                """
                CREATE TABLE web_sessions (id_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  user_id TEXT NOT NULL REFERENCES users(id), created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL,
                  last_seen_at {bigint} NOT NULL, ip TEXT, user_agent TEXT)
                """,
                "CREATE INDEX web_sessions_user ON web_sessions (user_id)",
                """
                CREATE TABLE login_throttle (bucket TEXT PRIMARY KEY, failures {bigint} NOT NULL, window_start {bigint} NOT NULL,
                  locked_until {bigint})
                """,
                """
                CREATE TABLE connect_sessions (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  app_id TEXT NOT NULL REFERENCES apps(id), integration_id TEXT NOT NULL REFERENCES integrations(id),
                  end_user_id TEXT NOT NULL REFERENCES end_users(id), state_hash TEXT NOT NULL UNIQUE, browser_hash TEXT NOT NULL,
                  verifier {blob}, key_version {bigint}, nonce TEXT, redirect_uri TEXT NOT NULL, scopes TEXT NOT NULL,
                  template_values TEXT NOT NULL, reconnect_credential_id TEXT, status TEXT NOT NULL, error TEXT, credential_id TEXT,
                  created_at {bigint} NOT NULL, state_expires_at {bigint} NOT NULL, expires_at {bigint} NOT NULL,
                  completed_at {bigint})
                """,
                "CREATE INDEX connect_sessions_expiry ON connect_sessions (expires_at)",
            ]
        ),
        Step(
            version: 4,
            name: "token lifecycle: refresh schedule, failures, integration status",
            statements: [
                "ALTER TABLE credentials ADD COLUMN refresh_due_at {bigint}",
                "ALTER TABLE credentials ADD COLUMN refresh_failures {bigint} NOT NULL DEFAULT 0",
                "CREATE INDEX credentials_refresh_due ON credentials (refresh_due_at)",
                "ALTER TABLE integrations ADD COLUMN status TEXT NOT NULL DEFAULT 'ok'",
                "ALTER TABLE integrations ADD COLUMN status_reason TEXT",
            ]
        ),
        Step(
            version: 5,
            name: "webhooks: tenant endpoint and delivery outbox",
            statements: [
                """
                CREATE TABLE webhook_endpoints (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), app_id TEXT,
                  url TEXT NOT NULL, secret {blob} NOT NULL, key_version {bigint} NOT NULL, created_at {bigint} NOT NULL,
                  updated_at {bigint} NOT NULL)
                """,
                "CREATE UNIQUE INDEX webhook_endpoints_owner ON webhook_endpoints (tenant_id, COALESCE(app_id, ''))",
                """
                CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  event_id TEXT NOT NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
                  attempts {bigint} NOT NULL, next_attempt_at {bigint} NOT NULL, retry_until {bigint} NOT NULL, last_attempt_at {bigint},
                  last_status_code {bigint}, last_error TEXT, created_at {bigint} NOT NULL, delivered_at {bigint}, lease_owner TEXT,
                  lease_until {bigint})
                """,
                "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
                "CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at, id)",
            ]
        ),
        Step(
            version: 6,
            name: "one circuit per integration, shared by every instance",
            statements: [
                """
                CREATE TABLE circuits (integration_id TEXT PRIMARY KEY REFERENCES integrations(id) ON DELETE CASCADE,
                  tenant_id TEXT NOT NULL REFERENCES tenants(id), failures {bigint} NOT NULL, open_until {bigint}, trial_owner TEXT,
                  trial_until {bigint}, version {bigint} NOT NULL, updated_at {bigint} NOT NULL)
                """,
                "CREATE INDEX circuits_tenant ON circuits (tenant_id)",
            ]
        ),
        Step(
            version: 7,
            name: "sign-in throttle: growing waits per bucket, known browsers",
            statements: [
                "DROP TABLE login_throttle",
                """
                CREATE TABLE login_throttle (bucket TEXT PRIMARY KEY, failures {bigint} NOT NULL, last_failure {bigint} NOT NULL,
                  retry_at {bigint} NOT NULL)
                """,
                "CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure)",
                "CREATE TABLE login_known_browsers (key TEXT PRIMARY KEY, last_sign_in {bigint} NOT NULL)",
            ]
        ),
        Step(
            version: 8,
            name: "apps: keys, permissions, branding, own OAuth clients; end users' names",
            statements: [
                "ALTER TABLE apps ADD COLUMN description TEXT",
                "ALTER TABLE apps ADD COLUMN status TEXT NOT NULL DEFAULT 'active'",
                "ALTER TABLE apps ADD COLUMN branding TEXT NOT NULL DEFAULT '{}'",
                "ALTER TABLE apps ADD COLUMN allowed_redirect_origins TEXT NOT NULL DEFAULT '[]'",
                "ALTER TABLE apps ADD COLUMN key_hash TEXT",
                "ALTER TABLE apps ADD COLUMN key_prefix TEXT",
                "ALTER TABLE apps ADD COLUMN permission_integrations TEXT",
                "ALTER TABLE apps ADD COLUMN permission_operations TEXT NOT NULL DEFAULT '[\"tokens\",\"connect\",\"proxy\"]'",
                "ALTER TABLE apps ADD COLUMN updated_at {bigint}",
                "UPDATE apps SET updated_at = created_at",
                "CREATE UNIQUE INDEX apps_key_hash ON apps (key_hash)",
                """
                CREATE TABLE app_integration_configs (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  app_id TEXT NOT NULL REFERENCES apps(id), integration_id TEXT NOT NULL REFERENCES integrations(id),
                  client_id TEXT NOT NULL, client_secret {blob}, key_version {bigint}, scopes TEXT NOT NULL,
                  created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL, UNIQUE (app_id, integration_id))
                """,
                "ALTER TABLE end_users ADD COLUMN display_name TEXT",
                "ALTER TABLE end_users ADD COLUMN email TEXT",
                "CREATE INDEX end_users_app ON end_users (app_id, created_at, id)",
            ]
        ),
        Step(
            version: 9,
            name: "request log: token, connect, proxy and tool calls",
            statements: [
                """
                CREATE TABLE request_log (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), ts {bigint} NOT NULL,
                  kind TEXT NOT NULL, app_id TEXT, external_user_id TEXT, connection_id TEXT, integration_key TEXT, credential_id TEXT,
                  http_status {bigint} NOT NULL, error_code TEXT, latency_ms {bigint} NOT NULL)
                """,
                "CREATE INDEX request_log_tenant_newest ON request_log (tenant_id, ts, id)",
                "CREATE INDEX request_log_ts ON request_log (ts)",
            ]
        ),
        Step(
            version: 10,
            name: "webhooks: deliveries to an app's own endpoint",
            statements: [
                "ALTER TABLE webhook_deliveries ADD COLUMN app_id TEXT",
                "CREATE INDEX webhook_deliveries_app ON webhook_deliveries (tenant_id, app_id, status)",
            ]
        ),
        Step(
            version: 11,
            name: "app connect sessions: lk_cs_ tokens, browser binding, retried provider attempts",
            statements: [
                """
                CREATE TABLE app_connect_sessions (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  app_id TEXT NOT NULL REFERENCES apps(id), integration_id TEXT NOT NULL REFERENCES integrations(id),
                  end_user_id TEXT NOT NULL REFERENCES end_users(id), connection_id TEXT NOT NULL REFERENCES connections(id),
                  token_hash TEXT NOT NULL UNIQUE, token_sealed {blob} NOT NULL, browser_hash TEXT, redirect_url TEXT, reconnect_credential_id TEXT,
                  status TEXT NOT NULL, error TEXT, credential_id TEXT, state_hash TEXT UNIQUE, verifier {blob}, key_version {bigint},
                  nonce TEXT, scopes TEXT NOT NULL, template_values TEXT NOT NULL, attempt_expires_at {bigint},
                  created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL, completed_at {bigint})
                """,
                "CREATE INDEX app_connect_sessions_app ON app_connect_sessions (app_id, id)",
                "CREATE INDEX app_connect_sessions_expiry ON app_connect_sessions (expires_at)",
            ]
        ),
        Step(
            version: 13,
            name: "the database keeps each audit chain: an event must follow its tenant's head, and moves it",
            statements: AuditChainRules.sqlite,
            postgres: AuditChainRules.postgres
        ),
        Step(
            version: 14,
            name: "the instances' leased slices of each Connection's rate budget, per window",
            statements: [
                """
                CREATE TABLE rate_budget_leases (connection_id TEXT NOT NULL, window_start {bigint} NOT NULL,
                  granted {bigint} NOT NULL, last_grant {bigint} NOT NULL, PRIMARY KEY (connection_id, window_start))
                """
            ]
        ),
        Step(
            version: 15,
            name: "request log: the tool a tool call called",
            statements: ["ALTER TABLE request_log ADD COLUMN tool TEXT"]
        ),
        Step(
            version: 16,
            name: "a Connection's own rate budget, overriding the catalog's default",
            statements: [
                """
                CREATE TABLE connection_rate_limits (connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
                  budget {bigint} NOT NULL, window_seconds {bigint} NOT NULL, updated_at {bigint} NOT NULL)
                """
            ]
        ),
        Step(
            version: 17,
            name: "the OAuth authorization server: clients, grants, authorization codes and tokens",
            statements: [
                """
                CREATE TABLE oauth_clients (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), kind TEXT NOT NULL,
                  name TEXT, client_uri TEXT, logo_uri TEXT, redirect_uris TEXT NOT NULL, auth_method TEXT NOT NULL,
                  application_type TEXT NOT NULL, secret_hash TEXT, secret_expires_at {bigint}, created_at {bigint} NOT NULL,
                  last_used_at {bigint})
                """,
                "CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, kind)",
                """
                CREATE TABLE oauth_grants (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  user_id TEXT NOT NULL REFERENCES users(id), client_id TEXT NOT NULL, services TEXT NOT NULL, scopes TEXT NOT NULL,
                  resource TEXT NOT NULL, created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL, last_used_at {bigint},
                  revoked_at {bigint})
                """,
                "CREATE INDEX oauth_grants_user ON oauth_grants (user_id, client_id)",
                """
                CREATE TABLE oauth_codes (code_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  grant_id TEXT NOT NULL REFERENCES oauth_grants(id), client_id TEXT NOT NULL, user_id TEXT NOT NULL,
                  redirect_uri TEXT NOT NULL, code_challenge TEXT NOT NULL, resource TEXT NOT NULL, scopes TEXT NOT NULL,
                  status TEXT NOT NULL, created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL, used_at {bigint})
                """,
                """
                CREATE TABLE oauth_tokens (token_hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                  tenant_id TEXT NOT NULL REFERENCES tenants(id), grant_id TEXT NOT NULL REFERENCES oauth_grants(id),
                  client_id TEXT NOT NULL, user_id TEXT NOT NULL, family_id TEXT NOT NULL, parent_id TEXT, code_hash TEXT,
                  scopes TEXT NOT NULL, resource TEXT NOT NULL, created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL,
                  used_at {bigint}, revoked_at {bigint})
                """,
                "CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id)",
                "CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id)",
                "CREATE INDEX oauth_tokens_code ON oauth_tokens (code_hash)",
            ]
        ),
    ]

    /// Applies every step not yet applied; returns the versions it applied.
    @discardableResult
    public static func run(on database: Database, logger: Logger) async throws -> [Int] {
        try await database.withMigrationLock { db in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version \(unsafeRaw: bigint(database)) PRIMARY KEY, name TEXT NOT NULL, applied_at \(unsafeRaw: bigint(database)) NOT NULL)"
            ).run()
            let applied = Set(try await db.raw("SELECT version FROM schema_migrations").all().map { try $0.decode(column: "version", as: Int.self) })
            var ran: [Int] = []
            for step in steps where !applied.contains(step.version) {
                let dialect = database.kind == .postgres ? step.postgres ?? step.statements : step.statements
                let statements = dialect.map { sql in
                    sql.replacingOccurrences(of: "{blob}", with: database.kind == .postgres ? "BYTEA" : "BLOB")
                        .replacingOccurrences(of: "{bigint}", with: bigint(database))
                }
                if database.kind == .postgres { try await db.raw("BEGIN").run() } else { try await db.raw("BEGIN IMMEDIATE").run() }
                do {
                    for statement in statements { try await db.raw("\(unsafeRaw: statement)").run() }
                    try await db.raw(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: step.version), \(bind: step.name), \(bind: Date().unixMilliseconds))"
                    ).run()
                    try await db.raw("COMMIT").run()
                } catch {
                    try? await db.raw("ROLLBACK").run()
                    throw DatabaseError(description: "Migration \(step.version) (\(step.name)) failed: \(Database.describe(error))")
                }
                logger.info("migration applied", metadata: ["version": "\(step.version)", "name": "\(step.name)"])
                ran.append(step.version)
            }
            return ran
        }
    }

    /// Whether the database already holds a Latchkey schema (at least one migration applied). Creates nothing.
    public static func isInstalled(on database: Database) async -> Bool {
        let count = try? await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()?.decode(column: "n", as: Int.self)
        }
        return (count ?? 0) > 0
    }

    /// The newest schema version this binary knows.
    public static var latestVersion: Int { steps.last?.version ?? 0 }

    private static func bigint(_ database: Database) -> String { database.kind == .postgres ? "BIGINT" : "INTEGER" }
}
