public import Foundation
public import LatchkeyCore
public import SQLKit

/// A credential row: metadata plus the still-encrypted payload.
public struct StoredCredential: Sendable {
    public var credential: Credential
    public var payload: Data
    /// The instance refreshing it right now, and until when that claim holds.
    public var leaseOwner: String? = nil
    public var leaseUntil: Date? = nil
}

/// Filters for listing credentials.
public struct CredentialFilter: Sendable {
    public var integrationKey: String?
    public var externalUserID: String?
    public var connectionID: String?
    public var status: CredentialStatus?
    public var limit: Int
    public var cursor: String?

    public init(
        integrationKey: String? = nil,
        externalUserID: String? = nil,
        connectionID: String? = nil,
        status: CredentialStatus? = nil,
        limit: Int = 50,
        cursor: String? = nil
    ) {
        self.integrationKey = integrationKey
        self.externalUserID = externalUserID
        self.connectionID = connectionID
        self.status = status
        self.limit = limit
        self.cursor = cursor
    }
}

/// Credential rows. Every read is scoped to a tenant; every update is fenced on the row version.
public struct CredentialRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let selectColumns = """
        SELECT c.*, i.key AS integration_key, e.external_id AS external_user_id
        FROM credentials c
        JOIN connections n ON n.id = c.connection_id
        JOIN integrations i ON i.id = n.integration_id
        LEFT JOIN end_users e ON e.id = c.end_user_id
        """

    public func insert(_ credential: Credential, payload: Data, on db: any SQLDatabase) async throws {
        try await insertMany([(credential, payload)], on: db)
    }

    /// Inserts rows in one statement (the bulk seed writes hundreds at a time).
    func insertMany(_ rows: [(credential: Credential, payload: Data)], on db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        var query = SQLQueryString(
            """
            INSERT INTO credentials (id, tenant_id, connection_id, end_user_id, type, status, status_reason, label, is_default, scopes,
              expires_at, refresh_due_at, provider_account, provider_account_id, connection_config, issued_by, payload, key_version, version, connected_at, last_refreshed_at,
              last_used_at, created_at, updated_at, lease_owner, lease_until) VALUES
            """
        )
        query.appendInterpolation(unsafeRaw: " ")
        for (index, row) in rows.enumerated() {
            let c = row.credential
            if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
            let values: [any Encodable & Sendable] = [
                c.id, c.tenantID, c.connectionID, c.endUserID, c.type.rawValue, c.status.rawValue, c.statusReason, c.label, c.isDefault ? 1 : 0,
                JSONColumn.encode(c.scopes), c.expiresAt?.ms, c.refreshDueAt?.ms, c.providerAccount, c.providerAccountID,
                JSONColumn.encode(c.connectionConfig), c.issuedBy, row.payload, c.keyVersion, c.version, c.connectedAt.ms, c.lastRefreshedAt?.ms,
                c.lastUsedAt?.ms, c.createdAt.ms, c.updatedAt.ms,
            ]
            query.appendInterpolation(unsafeRaw: "(")
            query.appendInterpolation(binds: values)
            query.appendInterpolation(unsafeRaw: ", NULL, NULL)")
        }
        try await db.raw(query).run()
    }

    /// The credential `id` of `tenantID`, or nil (also for an id of another tenant).
    public func find(id: String, tenantID: String) async throws -> StoredCredential? {
        try await database.read { db in try await find(id: id, tenantID: tenantID, on: db) }
    }

    public func find(id: String, tenantID: String, on db: any SQLDatabase) async throws -> StoredCredential? {
        try await db.raw("\(unsafeRaw: Self.selectColumns) WHERE c.id = \(bind: id) AND c.tenant_id = \(bind: tenantID)").first()
            .map(Self.stored(from:))
    }

    /// A page of credentials, oldest first, and the cursor of the next page. A row that cannot be read (a damaged
    /// column) is listed as unreadable in its place instead of failing the whole page.
    public func list(tenantID: String, filter: CredentialFilter) async throws -> CredentialPage {
        try await database.read { db in
            var query = SQLQueryString("\(unsafeRaw: Self.selectColumns) WHERE c.tenant_id = \(bind: tenantID)")
            if let key = filter.integrationKey {
                query.appendInterpolation(unsafeRaw: " AND i.key = ")
                query.appendInterpolation(bind: key)
            }
            if let external = filter.externalUserID {
                query.appendInterpolation(unsafeRaw: " AND e.external_id = ")
                query.appendInterpolation(bind: external)
            }
            if let connection = filter.connectionID {
                query.appendInterpolation(unsafeRaw: " AND c.connection_id = ")
                query.appendInterpolation(bind: connection)
            }
            if let status = filter.status {
                query.appendInterpolation(unsafeRaw: " AND c.status = ")
                query.appendInterpolation(bind: status.rawValue)
            }
            if let cursor = filter.cursor {
                let (createdAt, id) = try ListCursor.decode(cursor)
                query.appendInterpolation(unsafeRaw: " AND (c.created_at > ")
                query.appendInterpolation(bind: createdAt)
                query.appendInterpolation(unsafeRaw: " OR (c.created_at = ")
                query.appendInterpolation(bind: createdAt)
                query.appendInterpolation(unsafeRaw: " AND c.id > ")
                query.appendInterpolation(bind: id)
                query.appendInterpolation(unsafeRaw: "))")
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY c.created_at, c.id LIMIT \(filter.limit + 1)")
            var rows = try await db.raw(query).all()
            var next: String?
            if rows.count > filter.limit {
                rows.removeLast()
                if let last = rows.last {
                    next = ListCursor.encode(createdAt: try last.date("created_at"), id: try last.string("id"))
                }
            }
            return CredentialPage(entries: rows.map(Self.entry(from:)), nextCursor: next)
        }
    }

    /// One listed row: the credential, or what is known of a row that cannot be read.
    static func entry(from row: any SQLRow) -> CredentialPage.Entry {
        do {
            let stored = try stored(from: row)
            guard !stored.payload.isEmpty else { throw StorageError(table: "credentials", column: "payload", rowID: stored.credential.id) }
            return .credential(stored.credential)
        } catch {
            let storageError = error as? StorageError ?? StorageError(table: "credentials", column: "unknown", rowID: "unknown")
            // (every read of a row column throws StorageError; the fallback only keeps the type total)
            return .unreadable(
                UnreadableCredential(
                    id: (try? row.string("id")) ?? storageError.rowID,
                    integrationKey: try? row.string("integration_key"),
                    connectionID: try? row.string("connection_id"),
                    statusReason: try? row.optionalString("status_reason"),
                    error: storageError
                )
            )
        }
    }

    /// Replaces payload and metadata if the row is still at `credential.version`; the row's version goes up by one.
    /// Returns false when another writer got there first (the caller re-reads). `last_used_at` only moves forward: a
    /// hand-out marks it without changing the version (`AuditChainRules`), so the row read may be behind it.
    public func updateFenced(_ credential: Credential, payload: Data, on db: any SQLDatabase) async throws -> Bool {
        let c = credential
        // Written in another status (a reconnect): the owner is told again the next time it needs reconnecting.
        let notice: SQLQueryString = c.status == .needsReauth ? "" : "reauth_notified_at = NULL, "
        return try await db.raw(
            """
            UPDATE credentials SET status = \(bind: c.status.rawValue), status_reason = \(bind: c.statusReason), label = \(bind: c.label),
              is_default = \(bind: c.isDefault ? 1 : 0), scopes = \(bind: JSONColumn.encode(c.scopes)), expires_at = \(bind: c.expiresAt?.ms),
              provider_account = \(bind: c.providerAccount), provider_account_id = \(bind: c.providerAccountID),
              refresh_due_at = \(bind: c.refreshDueAt?.ms), refresh_failures = \(bind: c.refreshFailures),
              issued_by = \(bind: c.issuedBy), connection_config = \(bind: JSONColumn.encode(c.connectionConfig)),
              payload = \(bind: payload), key_version = \(bind: c.keyVersion), version = version + 1, \(notice)
              last_refreshed_at = \(bind: c.lastRefreshedAt?.ms), updated_at = \(bind: c.updatedAt.ms),
              last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < \(bind: c.lastUsedAt?.ms) THEN \(bind: c.lastUsedAt?.ms)
                ELSE last_used_at END
            WHERE id = \(bind: c.id) AND tenant_id = \(bind: c.tenantID) AND version = \(bind: c.version)
            RETURNING version
            """
        ).first() != nil
    }

    /// Moves one row's payload to another key version, fenced on the row version and on the key version it was read at.
    public func rewrapFenced(
        id: String,
        version: Int,
        fromKeyVersion: Int,
        payload: Data,
        toKeyVersion: Int,
        on db: any SQLDatabase
    ) async throws -> Bool {
        try await db.raw(
            """
            UPDATE credentials SET payload = \(bind: payload), key_version = \(bind: toKeyVersion), version = version + 1
            WHERE id = \(bind: id) AND version = \(bind: version) AND key_version = \(bind: fromKeyVersion)
            RETURNING version
            """
        ).first() != nil
    }

    /// Deletes the row; false when it was not there.
    public func delete(id: String, tenantID: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("DELETE FROM credentials WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) RETURNING id").first() != nil
    }

    /// Rows flagged because Latchkey cannot read them: an undecryptable payload or a damaged column. Re-wrap leaves
    /// them where they are (nothing can move them) and reports them.
    static let unreadableClause = "(c.status_reason IS NULL OR c.status_reason NOT IN ('decryption_failed', 'stored_data_unreadable'))"

    /// One row of a re-wrap batch: readable, or damaged (listed so the cursor moves past it).
    public enum BatchRow: Sendable {
        case stored(StoredCredential)
        case damaged(UnreadableCredential)

        public var id: String {
            switch self {
            case .stored(let stored): stored.credential.id
            case .damaged(let row): row.id
            }
        }
    }

    /// Rows after `cursor` (by id) whose key version is below `version`, for re-wrap; rows already flagged unreadable
    /// are left out.
    public func batchBelowKeyVersion(_ version: Int, after cursor: String, limit: Int) async throws -> [BatchRow] {
        try await database.read { db in
            try await db.raw(
                """
                \(unsafeRaw: Self.selectColumns) WHERE c.key_version < \(bind: version) AND c.id > \(bind: cursor) AND \(unsafeRaw: Self.unreadableClause)
                ORDER BY c.id LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map { row in
                switch Self.entry(from: row) {
                case .credential:
                    // entry(from:) read it whole; read it again with its payload.
                    return .stored(try Self.stored(from: row))
                case .unreadable(let damaged): return .damaged(damaged)
                }
            }
        }
    }

    /// Rows below key `version` that re-wrap can still move (flagged unreadable rows are not counted).
    public func countBelowKeyVersion(_ version: Int) async throws -> Int {
        try await database.read { db in
            try await db.raw(
                "SELECT COUNT(*) AS n FROM credentials c WHERE c.key_version < \(bind: version) AND \(unsafeRaw: Self.unreadableClause)"
            ).first()?.int("n") ?? 0
        }
    }

    /// Ids of the rows flagged unreadable (at most `limit`, by id) and how many there are.
    public func unreadableRows(limit: Int = 100) async throws -> (count: Int, ids: [String]) {
        try await database.read { db in
            let flagged = "c.status_reason IN ('decryption_failed', 'stored_data_unreadable')"
            let count = try await db.raw("SELECT COUNT(*) AS n FROM credentials c WHERE \(unsafeRaw: flagged)").first()?.int("n") ?? 0
            let ids = try await db.raw("SELECT c.id FROM credentials c WHERE \(unsafeRaw: flagged) ORDER BY c.id LIMIT \(unsafeRaw: String(limit))")
                .all().map { try $0.string("id") }
            return (count, ids)
        }
    }

    /// The row as a credential. A damaged column throws a `StorageError` naming it; a payload of the wrong type reads
    /// as empty, so opening it fails like any altered ciphertext (flagged and audited by the vault).
    static func stored(from row: any SQLRow) throws -> StoredCredential {
        let credential = try StorageError.naming(table: "credentials") { try metadata(from: row) }
        return StoredCredential(
            credential: credential,
            payload: (try? row.data("payload")) ?? Data(),
            leaseOwner: try? row.optionalString("lease_owner"),
            leaseUntil: try? row.optionalDate("lease_until")
        )
    }

    private static func metadata(from row: any SQLRow) throws -> Credential {
        var credential = Credential(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            connectionID: try row.string("connection_id"),
            endUserID: try row.optionalString("end_user_id"),
            externalUserID: try row.optionalString("external_user_id"),
            integrationKey: try row.string("integration_key"),
            type: CredentialType(rawValue: try row.string("type")) ?? .oauth2,
            status: CredentialStatus(rawValue: try row.string("status")) ?? .active,
            statusReason: try row.optionalString("status_reason"),
            label: try row.optionalString("label"),
            isDefault: try row.bool("is_default"),
            scopes: try row.stringArray("scopes", table: "credentials"),
            expiresAt: try row.optionalDate("expires_at"),
            providerAccount: try row.optionalString("provider_account"),
            connectionConfig: try row.stringMap("connection_config", table: "credentials"),
            issuedBy: try row.optionalString("issued_by"),
            keyVersion: try row.int("key_version"),
            version: try row.int("version"),
            connectedAt: try row.date("connected_at"),
            lastRefreshedAt: try row.optionalDate("last_refreshed_at"),
            lastUsedAt: try row.optionalDate("last_used_at"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"),
            providerAccountID: try row.optionalString("provider_account_id"),
            refreshDueAt: try row.optionalDate("refresh_due_at")
        )
        credential.refreshFailures = try row.optionalInt("refresh_failures") ?? 0
        return credential
    }
}
