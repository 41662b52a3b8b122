public import Foundation
public import LatchkeyCore
import SQLKit

/// Apps' own OAuth clients, one per app and integration; the secret stays sealed here.
public struct AppConfigRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let select = """
        SELECT a.*, i.key AS integration_key FROM app_integration_configs a JOIN integrations i ON i.id = a.integration_id
        """

    /// The config of `appID` for the integration `integrationID`, with its sealed secret.
    public func find(appID: String, integrationID: String, tenantID: String) async throws -> (AppIntegrationConfig, Data?)? {
        try await database.read { db in try await find(appID: appID, integrationID: integrationID, tenantID: tenantID, on: db) }
    }

    func find(appID: String, integrationID: String, tenantID: String, on db: any SQLDatabase) async throws -> (AppIntegrationConfig, Data?)? {
        try await db.raw(
            """
            \(unsafeRaw: Self.select) WHERE a.app_id = \(bind: appID) AND a.integration_id = \(bind: integrationID)
              AND a.tenant_id = \(bind: tenantID)
            """
        ).first().map { row in (try Self.config(from: row), try row.optionalData("client_secret")) }
    }

    /// Inserts or replaces the config; `sealedSecret` `.none` keeps the stored secret.
    func upsert(_ config: AppIntegrationConfig, sealedSecret: Data??, on db: any SQLDatabase) async throws {
        let existing = try await db.raw(
            "SELECT id, client_secret FROM app_integration_configs WHERE app_id = \(bind: config.appID) AND integration_id = \(bind: config.integrationID)"
        ).first()
        if let existing {
            var query = SQLQueryString(
                "UPDATE app_integration_configs SET client_id = \(bind: config.clientID), scopes = \(bind: JSONColumn.encode(config.scopes)), updated_at = \(bind: config.updatedAt.ms)"
            )
            if case .some(let value) = sealedSecret {
                query.appendInterpolation(unsafeRaw: ", client_secret = ")
                query.appendInterpolation(bind: value)
                query.appendInterpolation(unsafeRaw: ", key_version = ")
                query.appendInterpolation(bind: value.flatMap { try? Keyring.keyVersion(of: $0) })
            }
            query.appendInterpolation(unsafeRaw: " WHERE id = ")
            query.appendInterpolation(bind: try existing.string("id"))
            try await db.raw(query).run()
        } else {
            let sealed = sealedSecret ?? nil
            try await db.raw(
                """
                INSERT INTO app_integration_configs (id, tenant_id, app_id, integration_id, client_id, client_secret, key_version, scopes,
                  created_at, updated_at)
                VALUES (\(bind: config.id), \(bind: config.tenantID), \(bind: config.appID), \(bind: config.integrationID), \(bind: config.clientID),
                  \(bind: sealed), \(bind: sealed.flatMap { try? Keyring.keyVersion(of: $0) }), \(bind: JSONColumn.encode(config.scopes)),
                  \(bind: config.createdAt.ms), \(bind: config.updatedAt.ms))
                """
            ).run()
        }
    }

    func delete(appID: String, integrationID: String, tenantID: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            DELETE FROM app_integration_configs WHERE app_id = \(bind: appID) AND integration_id = \(bind: integrationID)
              AND tenant_id = \(bind: tenantID) RETURNING id
            """
        ).first() != nil
    }

    static func config(from row: any SQLRow) throws -> AppIntegrationConfig {
        try StorageError.naming(table: "app_integration_configs") {
            AppIntegrationConfig(
                id: try row.string("id"),
                tenantID: try row.string("tenant_id"),
                appID: try row.string("app_id"),
                integrationID: try row.string("integration_id"),
                integrationKey: try row.string("integration_key"),
                clientID: try row.string("client_id"),
                hasClientSecret: try row.optionalData("client_secret") != nil,
                scopes: try row.stringArray("scopes", table: "app_integration_configs"),
                createdAt: try row.date("created_at"),
                updatedAt: try row.date("updated_at")
            )
        }
    }
}
