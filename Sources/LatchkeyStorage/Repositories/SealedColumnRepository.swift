import Foundation
import LatchkeyCore
import SQLKit

/// A column other than `credentials.payload` that holds values sealed with the keyring. Re-wrap moves them to the
/// active data-key version after the credentials, and a data key is only retired once none of them uses it.
struct SealedColumn: Sendable {
    let table: String
    let column: String
    /// The column that records the value's data-key version; nil when only the ciphertext header says it.
    let versionColumn: String?
    /// The SQL expression for the encryption context's owner.
    let ownerExpression: String
    /// The encryption context's field.
    let field: String

    /// Names the column in re-wrap progress (`key_rewrap.id`) and in logs.
    var name: String { "\(table).\(column)" }

    /// Every keyring-sealed column besides `credentials.payload`.
    static let all: [SealedColumn] = [
        SealedColumn(table: "integrations", column: "client_secret", versionColumn: "key_version", ownerExpression: "id", field: "client_secret"),
        SealedColumn(
            table: "app_integration_configs",
            column: "client_secret",
            versionColumn: "key_version",
            ownerExpression: "app_id",
            field: "app_client_secret"
        ),
        SealedColumn(
            table: "webhook_endpoints",
            column: "secret",
            versionColumn: "key_version",
            ownerExpression: "COALESCE(app_id, tenant_id)",
            field: "webhook_signing_secret"
        ),
        SealedColumn(
            table: "connect_sessions",
            column: "verifier",
            versionColumn: "key_version",
            ownerExpression: "end_user_id",
            field: "pkce_verifier"
        ),
        SealedColumn(
            table: "app_connect_sessions",
            column: "verifier",
            versionColumn: "key_version",
            ownerExpression: "end_user_id",
            field: "pkce_verifier"
        ),
        SealedColumn(
            table: "app_connect_sessions",
            column: "token_sealed",
            versionColumn: nil,
            ownerExpression: "end_user_id",
            field: "connect_token"
        ),
        SealedColumn(table: "totp_secrets", column: "secret", versionColumn: "key_version", ownerExpression: "user_id", field: "totp_secret"),
        SealedColumn(
            table: "audit_person_keys",
            column: "sealed_key",
            versionColumn: "key_version",
            ownerExpression: "person_id",
            field: "audit_person_key"
        ),
        SealedColumn(table: "sync_records", column: "payload", versionColumn: "key_version", ownerExpression: "credential_id", field: "sync_record"),
    ]

    /// The big-endian version bytes of a ciphertext header, as the header stores them (bytes 2–5).
    static func headerBytes(_ version: Int) -> Data {
        withUnsafeBytes(of: UInt32(version).bigEndian) { Data($0) }
    }

    /// Rows whose value is sealed under a version below `version`.
    func below(_ version: Int) -> SQLQueryString {
        if let versionColumn {
            return "\(unsafeRaw: column) IS NOT NULL AND \(unsafeRaw: versionColumn) < \(bind: version)"
        }
        return "\(unsafeRaw: column) IS NOT NULL AND substr(\(unsafeRaw: column), 2, 4) < \(bind: Self.headerBytes(version))"
    }
}

/// One sealed value as re-wrap reads it: where it is, what it is bound to, and the ciphertext.
struct SealedValue: Sendable {
    var id: String
    var context: EncryptionContext
    var sealed: Data
}

/// Reads and fenced writes of keyring-sealed columns other than `credentials.payload`.
struct SealedColumnRepository: Sendable {
    let database: Database

    /// The next values after `cursor` (by id) sealed under a version below `version`.
    func batch(_ column: SealedColumn, below version: Int, after cursor: String, limit: Int) async throws -> [SealedValue] {
        try await database.read { db in
            var query: SQLQueryString = """
                SELECT id, tenant_id, \(unsafeRaw: column.ownerExpression) AS owner_id, \(unsafeRaw: column.column) AS sealed
                FROM \(unsafeRaw: column.table) WHERE id > \(bind: cursor)
                """
            query += " AND " + column.below(version) + " ORDER BY id LIMIT \(bind: limit)"
            return try await db.raw(query).all().map { row in
                let id = try row.string("id")
                return SealedValue(
                    id: id,
                    context: EncryptionContext(
                        tenantID: try row.string("tenant_id"),
                        ownerID: try row.string("owner_id"),
                        recordID: id,
                        field: column.field
                    ),
                    sealed: try row.data("sealed")
                )
            }
        }
    }

    func count(_ column: SealedColumn, below version: Int) async throws -> Int {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: column.table) WHERE " + column.below(version)).first()?.int("n") ?? 0
        }
    }

    /// Replaces the value with `payload` (sealed under `version`) when it is still `previous`. False when the row
    /// changed or went away meanwhile.
    func replace(_ column: SealedColumn, id: String, previous: Data, payload: Data, version: Int, on db: any SQLDatabase) async throws -> Bool {
        var query: SQLQueryString = "UPDATE \(unsafeRaw: column.table) SET \(unsafeRaw: column.column) = \(bind: payload)"
        if let versionColumn = column.versionColumn { query += ", \(unsafeRaw: versionColumn) = \(bind: version)" }
        query += " WHERE id = \(bind: id) AND \(unsafeRaw: column.column) = \(bind: previous) RETURNING id"
        return try await db.raw(query).first() != nil
    }

    /// Values per data-key version in `column`.
    func countsByVersion(_ column: SealedColumn, on db: any SQLDatabase) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        if let versionColumn = column.versionColumn {
            for row in try await db.raw(
                """
                SELECT \(unsafeRaw: versionColumn) AS v, COUNT(*) AS n FROM \(unsafeRaw: column.table)
                WHERE \(unsafeRaw: column.column) IS NOT NULL GROUP BY \(unsafeRaw: versionColumn)
                """
            ).all() {
                counts[try row.int("v"), default: 0] += try row.int("n")
            }
            return counts
        }
        for row in try await db.raw(
            """
            SELECT substr(\(unsafeRaw: column.column), 2, 4) AS v, COUNT(*) AS n FROM \(unsafeRaw: column.table)
            WHERE \(unsafeRaw: column.column) IS NOT NULL GROUP BY substr(\(unsafeRaw: column.column), 2, 4)
            """
        ).all() {
            let version = try row.data("v").reduce(0) { $0 << 8 | Int($1) }
            counts[version, default: 0] += try row.int("n")
        }
        return counts
    }
}
