public import Foundation
public import LatchkeyCore
import SQLKit

/// Integration rows: a provider enabled for a tenant, with its default OAuth client. The client secret column is
/// ciphertext; every read is scoped to a tenant.
public struct IntegrationRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func list(tenantID: String) async throws -> [Integration] {
        try await database.read { db in
            try await db.raw("SELECT * FROM integrations WHERE tenant_id = \(bind: tenantID) ORDER BY key").all()
                .map(DirectoryRepository.integration(from:))
        }
    }

    public func find(key: String, tenantID: String) async throws -> Integration? {
        try await database.read { db in
            try await find(key: key, tenantID: tenantID, on: db)
        }
    }

    public func find(id: String, tenantID: String) async throws -> Integration? {
        try await database.read { db in
            try await db.raw("SELECT * FROM integrations WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)").first()
                .map(DirectoryRepository.integration(from:))
        }
    }

    func find(key: String, tenantID: String, on db: any SQLDatabase) async throws -> Integration? {
        try await db.raw("SELECT * FROM integrations WHERE tenant_id = \(bind: tenantID) AND key = \(bind: key)").first()
            .map(DirectoryRepository.integration(from:))
    }

    /// The sealed client secret of the integration, if one is stored.
    public func sealedClientSecret(id: String, tenantID: String) async throws -> Data? {
        try await database.read { db in
            try await db.raw("SELECT client_secret FROM integrations WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)").first()?
                .optionalData("client_secret")
        }
    }

    /// Inserts; false when the key is taken.
    func insert(_ i: Integration, sealedSecret: Data?, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            INSERT INTO integrations (id, tenant_id, key, provider, enabled, client_id, client_secret, scopes, settings, key_version, version,
              created_at, updated_at, display_name)
            VALUES (\(bind: i.id), \(bind: i.tenantID), \(bind: i.key), \(bind: i.provider), \(bind: i.enabled ? 1 : 0), \(bind: i.clientID),
              \(bind: sealedSecret), \(bind: JSONColumn.encode(i.scopes)), \(bind: JSONColumn.encode(i.settings)),
              \(bind: sealedSecret.flatMap { try? Keyring.keyVersion(of: $0) }), 1, \(bind: i.createdAt.ms), \(bind: i.updatedAt.ms),
              \(bind: i.displayName))
            ON CONFLICT (tenant_id, key) DO NOTHING RETURNING id
            """
        ).first() != nil
    }

    /// Replaces the row if it is still at `i.version`. `sealedSecret` `.none` keeps the stored secret.
    func updateFenced(_ i: Integration, sealedSecret: Data??, on db: any SQLDatabase) async throws -> Bool {
        let secretClause: SQLQueryString
        switch sealedSecret {
        case .none: secretClause = ""
        case .some(let value):
            secretClause =
                ", client_secret = \(bind: value), key_version = \(bind: value.flatMap { try? Keyring.keyVersion(of: $0) })"
        }
        return try await db.raw(
            """
            UPDATE integrations SET enabled = \(bind: i.enabled ? 1 : 0), client_id = \(bind: i.clientID),
              scopes = \(bind: JSONColumn.encode(i.scopes)), settings = \(bind: JSONColumn.encode(i.settings)),
              display_name = \(bind: i.displayName), version = version + 1, updated_at = \(bind: i.updatedAt.ms)\(secretClause)
            WHERE id = \(bind: i.id) AND tenant_id = \(bind: i.tenantID) AND version = \(bind: i.version)
            RETURNING version
            """
        ).first() != nil
    }

    func credentialCount(integrationID: String, on db: any SQLDatabase) async throws -> Int {
        try await db.raw(
            """
            SELECT COUNT(*) AS n FROM credentials c JOIN connections k ON k.id = c.connection_id
            WHERE k.integration_id = \(bind: integrationID)
            """
        ).first()?.int("n") ?? 0
    }

    /// How many people (distinct end users, console users included) have an account connected to the integration, and
    /// how many accounts there are in all (shared ones included).
    public func connectedCounts(integrationID: String, tenantID: String) async throws -> (people: Int, accounts: Int) {
        try await database.read { db in
            let row = try await db.raw(
                """
                SELECT COUNT(DISTINCT c.end_user_id) AS people, COUNT(*) AS accounts FROM credentials c
                JOIN connections k ON k.id = c.connection_id
                WHERE k.integration_id = \(bind: integrationID) AND c.tenant_id = \(bind: tenantID)
                """
            ).first()
            return (try row?.int("people") ?? 0, try row?.int("accounts") ?? 0)
        }
    }

    func delete(id: String, tenantID: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("DELETE FROM connect_sessions WHERE integration_id = \(bind: id)").run()
        try await db.raw("DELETE FROM app_connect_sessions WHERE integration_id = \(bind: id)").run()
        try await db.raw("DELETE FROM connections WHERE integration_id = \(bind: id)").run()
        try await db.raw("DELETE FROM circuits WHERE integration_id = \(bind: id)").run()
        return try await db.raw("DELETE FROM integrations WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) RETURNING id").first() != nil
    }
}
