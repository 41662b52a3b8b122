public import Foundation
import LatchkeyCore
import SQLKit

/// Reads what is held about a person for `PersonExport`, column by named column: a column that holds a secret, a
/// hash of one or sealed bytes is never selected.
public struct PersonRecords: Sendable {
    let database: Database
    let audit: AuditRepository

    /// `audit` opens the identifiers sealed under the person's audit key, so that their events can be found and read.
    public init(database: Database, audit: AuditLog) {
        self.database = database
        self.audit = audit.repository
    }

    enum Kind { case text, number, flag, time }

    /// The exported columns of one table: `name` as stored, with its kind.
    struct Columns {
        var list: [(name: String, kind: Kind)]
        var sql: String { list.map(\.name).joined(separator: ", ") }
    }

    static let credentialColumns = Columns(list: [
        ("c.id", .text), ("c.connection_id", .text), ("i.key", .text), ("c.end_user_id", .text), ("c.type", .text), ("c.status", .text),
        ("c.status_reason", .text), ("c.label", .text), ("c.is_default", .flag), ("c.scopes", .text), ("c.expires_at", .time),
        ("c.provider_account", .text), ("c.connected_at", .time), ("c.last_refreshed_at", .time), ("c.last_used_at", .time),
        ("c.created_at", .time),
    ])
    static let endUserColumns = Columns(list: [
        ("id", .text), ("app_id", .text), ("external_id", .text), ("display_name", .text), ("email", .text), ("user_id", .text),
        ("created_at", .time),
    ])
    static let requestLogColumns = Columns(list: [
        ("id", .text), ("ts", .time), ("kind", .text), ("app_id", .text), ("external_user_id", .text), ("connection_id", .text),
        ("integration_key", .text), ("credential_id", .text), ("tool", .text), ("http_status", .number), ("error_code", .text),
        ("latency_ms", .number),
    ])

    /// The end users (alias `alias`) that are the console user: theirs by link, and the console app's one for them.
    static func isPerson(_ alias: String, userID: String, tenantID: String) -> SQLQueryString {
        let match: SQLQueryString = "(\(unsafeRaw: alias).user_id = \(bind: userID) OR (\(unsafeRaw: alias).external_id = \(bind: userID) AND "
        return match + "\(unsafeRaw: alias).app_id IN (SELECT id FROM apps WHERE tenant_id = \(bind: tenantID) AND kind = 'console')))"
    }

    /// A console user's export; nil when the tenant has no such user.
    public func exportUser(id userID: String, tenantID: String, now: Date) async throws -> PersonExport? {
        try await database.read { db in
            let userColumns = Columns(list: [("id", .text), ("email", .text), ("display_name", .text), ("is_admin", .flag), ("created_at", .time)])
            guard
                let profile = try await Self.rows(
                    userColumns,
                    "SELECT \(unsafeRaw: userColumns.sql) FROM users WHERE id = \(bind: userID) AND tenant_id = \(bind: tenantID)",
                    on: db
                ).first
            else { return nil }
            var export = PersonExport(kind: "user", exportedAt: now, profile: profile)
            let identityColumns = Columns(list: [
                ("id", .text), ("method", .text), ("provider", .text), ("subject", .text), ("display_name", .text), ("email", .text),
                ("app_id", .text), ("created_at", .time), ("last_used_at", .time),
            ])
            export.identities = try await Self.rows(
                identityColumns,
                "SELECT \(unsafeRaw: identityColumns.sql) FROM identities WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) ORDER BY created_at",
                on: db
            )
            let passkeyColumns = Columns(list: [
                ("credential_id", .text), ("name", .text), ("sign_count", .number), ("created_at", .time), ("last_used_at", .time),
            ])
            export.passkeys = try await Self.rows(
                passkeyColumns,
                "SELECT \(unsafeRaw: passkeyColumns.sql) FROM passkeys WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) ORDER BY created_at",
                on: db
            )
            let sessionColumns = Columns(list: [
                ("public_id", .text), ("method", .text), ("strength", .text), ("created_at", .time), ("expires_at", .time), ("last_seen_at", .time),
                ("ip", .text), ("user_agent", .text),
            ])
            export.sessions = try await Self.rows(
                sessionColumns,
                "SELECT \(unsafeRaw: sessionColumns.sql) FROM web_sessions WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) ORDER BY created_at",
                on: db
            )
            let totpColumns = Columns(list: [("created_at", .time), ("enabled_at", .time)])
            export.twoFactor = try await Self.rows(
                totpColumns,
                "SELECT \(unsafeRaw: totpColumns.sql) FROM totp_secrets WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)",
                on: db
            )
            export.endUsers = try await Self.rows(
                Self.endUserColumns,
                "SELECT \(unsafeRaw: Self.endUserColumns.sql) FROM end_users e WHERE \(Self.isPerson("e", userID: userID, tenantID: tenantID)) AND e.tenant_id = \(bind: tenantID) ORDER BY e.created_at",
                on: db
            )
            export.credentials = try await Self.rows(
                Self.credentialColumns,
                """
                SELECT \(unsafeRaw: Self.credentialColumns.sql) FROM credentials c JOIN end_users e ON e.id = c.end_user_id
                JOIN connections n ON n.id = c.connection_id JOIN integrations i ON i.id = n.integration_id
                WHERE \(Self.isPerson("e", userID: userID, tenantID: tenantID)) AND c.tenant_id = \(bind: tenantID) ORDER BY c.created_at
                """,
                on: db
            )
            let grantColumns = Columns(list: [
                ("id", .text), ("client_id", .text), ("services", .text), ("scopes", .text), ("resource", .text), ("created_at", .time),
                ("updated_at", .time), ("last_used_at", .time), ("revoked_at", .time),
            ])
            export.oauthGrants = try await Self.rows(
                grantColumns,
                "SELECT \(unsafeRaw: grantColumns.sql) FROM oauth_grants WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID) ORDER BY created_at",
                on: db
            )
            let linkColumns = Columns(list: [
                ("l.id", .text), ("l.app_id", .text), ("l.provider", .text), ("l.subject", .text), ("l.display_name", .text), ("l.created_at", .time),
                ("l.expires_at", .time), ("l.used_at", .time),
            ])
            export.linkCodes = try await Self.rows(
                linkColumns,
                """
                SELECT \(unsafeRaw: linkColumns.sql) FROM link_codes l WHERE l.tenant_id = \(bind: tenantID) AND EXISTS (SELECT 1 FROM identities d
                WHERE d.user_id = \(bind: userID) AND d.tenant_id = l.tenant_id AND d.provider = l.provider AND d.subject = l.subject) ORDER BY l.created_at
                """,
                on: db
            )
            export.requestLog = try await Self.rows(
                Self.requestLogColumns,
                """
                SELECT \(unsafeRaw: Self.requestLogColumns.sql) FROM request_log r WHERE r.tenant_id = \(bind: tenantID) AND EXISTS (SELECT 1 FROM end_users e
                WHERE \(Self.isPerson("e", userID: userID, tenantID: tenantID)) AND e.app_id = r.app_id AND e.external_id = r.external_user_id)
                ORDER BY r.ts
                """,
                on: db
            )
            return export
        }
    }

    /// An app's end user's export; nil when the app has no such end user.
    public func exportEndUser(appID: String, externalID: String, tenantID: String, now: Date) async throws -> PersonExport? {
        try await database.read { db in
            guard
                let profile = try await Self.rows(
                    Self.endUserColumns,
                    """
                    SELECT \(unsafeRaw: Self.endUserColumns.sql) FROM end_users WHERE app_id = \(bind: appID) AND external_id = \(bind: externalID)
                    AND tenant_id = \(bind: tenantID)
                    """,
                    on: db
                ).first
            else { return nil }
            var export = PersonExport(kind: "endUser", exportedAt: now, profile: profile)
            export.credentials = try await Self.rows(
                Self.credentialColumns,
                """
                SELECT \(unsafeRaw: Self.credentialColumns.sql) FROM credentials c JOIN end_users e ON e.id = c.end_user_id
                JOIN connections n ON n.id = c.connection_id JOIN integrations i ON i.id = n.integration_id
                WHERE e.app_id = \(bind: appID) AND e.external_id = \(bind: externalID) AND c.tenant_id = \(bind: tenantID) ORDER BY c.created_at
                """,
                on: db
            )
            export.requestLog = try await Self.rows(
                Self.requestLogColumns,
                """
                SELECT \(unsafeRaw: Self.requestLogColumns.sql) FROM request_log WHERE tenant_id = \(bind: tenantID) AND app_id = \(bind: appID)
                AND external_user_id = \(bind: externalID) ORDER BY ts
                """,
                on: db
            )
            return export
        }
    }

    /// Adds the audit events by or about the person: acted as `actor`, or targeting one of `targets` (the person's
    /// own id, end users, credentials, identities, grants). Reads the whole chain in pages.
    public func addAuditEvents(to export: inout PersonExport, tenantID: String, actor: String?, targets: Set<String>) async throws {
        var after = 0
        while true {
            let page = try await audit.page(tenantID: tenantID, afterSeq: after, limit: 1000)
            for event in page where (actor != nil && event.actor == actor) || event.target.map(targets.contains) == true {
                export.auditEvents.append(event)
            }
            guard let last = page.last else { return }
            after = last.seq
        }
    }

    static func rows(_ columns: Columns, _ query: SQLQueryString, on db: any SQLDatabase) async throws -> [ExportRow] {
        try await db.raw(query).all().map { row in
            var out: ExportRow = [:]
            for (name, kind) in columns.list {
                let column = String(name.split(separator: ".").last!)
                let key = Self.camelCase(column == "key" ? "integration" : column)
                switch kind {
                case .text: out[key] = try row.optionalString(column).map(ExportValue.text) ?? .null
                case .number: out[key] = try row.optionalInt(column).map(ExportValue.number) ?? .null
                case .flag: out[key] = try row.optionalInt(column).map { .flag($0 != 0) } ?? .null
                case .time: out[key] = try row.optionalDate(column).map(ExportValue.time) ?? .null
                }
            }
            return out
        }
    }

    static func camelCase(_ name: String) -> String {
        let parts = name.split(separator: "_")
        return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
    }
}
