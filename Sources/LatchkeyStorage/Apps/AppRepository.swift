import Foundation
public import LatchkeyCore
import SQLKit

/// App rows: settings, the key's HMAC, permissions. Every read is scoped to a tenant, except the lookup by key HMAC.
public struct AppRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    func insert(_ app: App, keyHash: String?, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO apps (id, tenant_id, name, kind, created_at, description, status, branding, allowed_redirect_origins, key_hash,
              key_prefix, permission_integrations, permission_operations, updated_at)
            VALUES (\(bind: app.id), \(bind: app.tenantID), \(bind: app.name), \(bind: app.kind.rawValue), \(bind: app.createdAt.ms),
              \(bind: app.description), \(bind: app.status.rawValue), \(bind: Self.encode(app.branding)),
              \(bind: JSONColumn.encode(app.allowedRedirectOrigins)), \(bind: keyHash), \(bind: app.keyPrefix),
              \(bind: app.permissions.integrations.map(JSONColumn.encode)), \(bind: JSONColumn.encode(app.permissions.operations.map(\.rawValue))),
              \(bind: app.updatedAt.ms))
            """
        ).run()
    }

    /// Writes every setting of `app` (not its key).
    func update(_ app: App, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE apps SET name = \(bind: app.name), description = \(bind: app.description), status = \(bind: app.status.rawValue),
              branding = \(bind: Self.encode(app.branding)), allowed_redirect_origins = \(bind: JSONColumn.encode(app.allowedRedirectOrigins)),
              permission_integrations = \(bind: app.permissions.integrations.map(JSONColumn.encode)),
              permission_operations = \(bind: JSONColumn.encode(app.permissions.operations.map(\.rawValue))), updated_at = \(bind: app.updatedAt.ms)
            WHERE id = \(bind: app.id) AND tenant_id = \(bind: app.tenantID) RETURNING id
            """
        ).first() != nil
    }

    func replaceKey(appID: String, tenantID: String, hash: String, prefix: String, now: Date, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            UPDATE apps SET key_hash = \(bind: hash), key_prefix = \(bind: prefix), updated_at = \(bind: now.ms)
            WHERE id = \(bind: appID) AND tenant_id = \(bind: tenantID) RETURNING id
            """
        ).first() != nil
    }

    /// The app `id` of the tenant.
    public func find(id: String, tenantID: String) async throws -> App? {
        try await database.read { db in try await find(id: id, tenantID: tenantID, on: db) }
    }

    func find(id: String, tenantID: String, on db: any SQLDatabase) async throws -> App? {
        try await db.raw("SELECT * FROM apps WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)").first().map(Self.app(from:))
    }

    /// The app whose key has this HMAC, whatever its status.
    /// On every request (through `KeyCache`): does not wait on an unreachable database (degraded mode).
    public func find(keyHash: String) async throws -> App? {
        try await database.readPromptly { db in
            try await db.raw("SELECT * FROM apps WHERE key_hash = \(bind: keyHash)").first().map(Self.app(from:))
        }
    }

    /// Every app of the tenant, the console app first.
    public func list(tenantID: String) async throws -> [App] {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM apps WHERE tenant_id = \(bind: tenantID) ORDER BY CASE WHEN kind = 'console' THEN 0 ELSE 1 END, created_at, id"
            ).all().map(Self.app(from:))
        }
    }

    /// Deletes the app and everything under it that is left (end users, connections, credentials, configs, connect
    /// sessions, its webhook endpoint). Credentials should have been revoked and deleted one by one before.
    func deleteCascade(id: String, tenantID: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            DELETE FROM credentials WHERE tenant_id = \(bind: tenantID)
              AND connection_id IN (SELECT id FROM connections WHERE app_id = \(bind: id))
            """
        ).run()
        try await db.raw("DELETE FROM connect_sessions WHERE app_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM app_connect_sessions WHERE app_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM app_integration_configs WHERE app_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM webhook_endpoints WHERE app_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM connections WHERE app_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        try await db.raw("DELETE FROM end_users WHERE app_id = \(bind: id) AND tenant_id = \(bind: tenantID)").run()
        return try await db.raw("DELETE FROM apps WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND kind = 'external' RETURNING id")
            .first() != nil
    }

    static func app(from row: any SQLRow) throws -> App {
        try StorageError.naming(table: "apps") {
            let id = try row.string("id")
            var app = App(
                id: id,
                tenantID: try row.string("tenant_id"),
                name: try row.string("name"),
                kind: App.Kind(rawValue: try row.string("kind")) ?? .external,
                createdAt: try row.date("created_at")
            )
            app.description = try row.optionalString("description")
            guard let status = AppStatus(rawValue: try row.string("status")) else {
                throw StorageError(table: "apps", column: "status", rowID: id)
            }
            app.status = status
            app.branding = try decodeBranding(try row.string("branding"), id: id)
            app.allowedRedirectOrigins = try row.stringArray("allowed_redirect_origins", table: "apps")
            app.keyPrefix = try row.optionalString("key_prefix")
            let integrations = try row.optionalString("permission_integrations").map(JSONColumn.decodeArray)
            let operations = try row.stringArray("permission_operations", table: "apps").compactMap(AppPermissions.Operation.init(rawValue:))
            app.permissions = AppPermissions(integrations: integrations, operations: operations)
            app.updatedAt = try row.optionalDate("updated_at") ?? app.createdAt
            return app
        }
    }

    static func encode(_ branding: AppBranding) -> String {
        var map: [String: String] = [:]
        map["displayName"] = branding.displayName
        map["logoUrl"] = branding.logoURL
        map["accentColor"] = branding.accentColor
        map["privacyUrl"] = branding.privacyURL
        return JSONColumn.encode(map)
    }

    static func decodeBranding(_ text: String, id: String) throws -> AppBranding {
        guard let map = try? JSONColumn.decodeMap(text) else { throw StorageError(table: "apps", column: "branding", rowID: id) }
        return AppBranding(displayName: map["displayName"], logoURL: map["logoUrl"], accentColor: map["accentColor"], privacyURL: map["privacyUrl"])
    }
}
