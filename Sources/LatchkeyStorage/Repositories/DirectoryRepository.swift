public import Foundation
public import LatchkeyCore
public import SQLKit

/// Tenants, apps, end users, integrations and connections: the who-and-where that credentials hang under.
public struct DirectoryRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Tenants

    public func insertTenant(_ tenant: Tenant, on db: any SQLDatabase) async throws {
        try await db.raw(
            "INSERT INTO tenants (id, slug, name, created_at) VALUES (\(bind: tenant.id), \(bind: tenant.slug), \(bind: tenant.name), \(bind: tenant.createdAt.ms))"
        ).run()
    }

    public func tenant(slug: String) async throws -> Tenant? {
        try await database.read { db in
            try await db.raw("SELECT * FROM tenants WHERE slug = \(bind: slug)").first().map(Self.tenant(from:))
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await database.read { db in
            try await db.raw("SELECT * FROM tenants WHERE id = \(bind: id)").first().map(Self.tenant(from:))
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await database.read { db in
            try await db.raw("SELECT * FROM tenants ORDER BY created_at, id").all().map(Self.tenant(from:))
        }
    }

    static func tenant(from row: any SQLRow) throws -> Tenant {
        Tenant(id: try row.string("id"), slug: try row.string("slug"), name: try row.string("name"), createdAt: try row.date("created_at"))
    }

    // MARK: Apps

    public func insertApp(_ app: App, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO apps (id, tenant_id, name, kind, created_at)
            VALUES (\(bind: app.id), \(bind: app.tenantID), \(bind: app.name), \(bind: app.kind.rawValue), \(bind: app.createdAt.ms))
            """
        ).run()
    }

    public func consoleApp(tenantID: String) async throws -> App? {
        try await database.read { db in
            try await db.raw("SELECT * FROM apps WHERE tenant_id = \(bind: tenantID) AND kind = 'console'").first().map { row in
                App(
                    id: try row.string("id"),
                    tenantID: try row.string("tenant_id"),
                    name: try row.string("name"),
                    kind: App.Kind(rawValue: try row.string("kind")) ?? .external,
                    createdAt: try row.date("created_at")
                )
            }
        }
    }

    // MARK: End users

    /// The end user `externalID` of `appID`, created on first use.
    public func findOrCreateEndUser(tenantID: String, appID: String, externalID: String, now: Date, on db: any SQLDatabase) async throws -> EndUser {
        if let row = try await db.raw("SELECT * FROM end_users WHERE app_id = \(bind: appID) AND external_id = \(bind: externalID)").first() {
            return try Self.endUser(from: row)
        }
        let user = EndUser(id: NewID.make(), tenantID: tenantID, appID: appID, externalID: externalID, userID: nil, createdAt: now)
        let inserted = try await db.raw(
            """
            INSERT INTO end_users (id, tenant_id, app_id, external_id, user_id, created_at)
            VALUES (\(bind: user.id), \(bind: tenantID), \(bind: appID), \(bind: externalID), \(bind: user.userID), \(bind: now.ms))
            ON CONFLICT (app_id, external_id) DO NOTHING RETURNING id
            """
        ).first()
        if inserted != nil { return user }
        // Created by a concurrent request: use that one.
        guard let row = try await db.raw("SELECT * FROM end_users WHERE app_id = \(bind: appID) AND external_id = \(bind: externalID)").first() else {
            throw LatchkeyError.conflict("The end user changed while it was being created; try again.")
        }
        return try Self.endUser(from: row)
    }

    static func endUser(from row: any SQLRow) throws -> EndUser {
        var user = EndUser(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            appID: try row.string("app_id"),
            externalID: try row.string("external_id"),
            userID: try row.optionalString("user_id"),
            createdAt: try row.date("created_at")
        )
        user.displayName = try row.optionalString("display_name")
        user.email = try row.optionalString("email")
        return user
    }

    // MARK: Integrations and connections

    /// The integration `key` of the tenant, created on first use: disabled (it has no OAuth client yet, so nobody
    /// is offered a Connect button that cannot work), provider = key. `created` says whether this call created it.
    public func findOrCreateIntegration(
        tenantID: String,
        key: String,
        now: Date,
        on db: any SQLDatabase
    ) async throws -> (integration: Integration, created: Bool) {
        if let row = try await db.raw("SELECT * FROM integrations WHERE tenant_id = \(bind: tenantID) AND key = \(bind: key)").first() {
            return (try Self.integration(from: row), false)
        }
        let integration = Integration(
            id: NewID.make(),
            tenantID: tenantID,
            key: key,
            provider: key,
            enabled: false,
            clientID: nil,
            scopes: [],
            createdAt: now
        )
        let inserted = try await db.raw(
            """
            INSERT INTO integrations (id, tenant_id, key, provider, enabled, client_id, client_secret, scopes, settings, key_version, version,
              created_at, updated_at)
            VALUES (\(bind: integration.id), \(bind: tenantID), \(bind: key), \(bind: key), 0, NULL, NULL, '[]', '{}', NULL, 1,
              \(bind: now.ms), \(bind: now.ms))
            ON CONFLICT (tenant_id, key) DO NOTHING RETURNING id
            """
        ).first()
        if inserted != nil { return (integration, true) }
        guard let row = try await db.raw("SELECT * FROM integrations WHERE tenant_id = \(bind: tenantID) AND key = \(bind: key)").first() else {
            throw LatchkeyError.conflict("The integration changed while it was being created; try again.")
        }
        return (try Self.integration(from: row), false)
    }

    static func integration(from row: any SQLRow) throws -> Integration {
        var integration = Integration(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            key: try row.string("key"),
            provider: try row.string("provider"),
            enabled: try row.bool("enabled"),
            clientID: try row.optionalString("client_id"),
            scopes: try row.stringArray("scopes", table: "integrations"),
            createdAt: try row.date("created_at"),
            displayName: try row.optionalString("display_name"),
            settings: try row.stringMap("settings", table: "integrations"),
            hasClientSecret: try row.optionalData("client_secret") != nil,
            version: try row.int("version"),
            updatedAt: try row.date("updated_at")
        )
        let status = try row.optionalString("status")
        guard let parsed = IntegrationStatus(rawValue: status ?? IntegrationStatus.ok.rawValue) else {
            throw StorageError(table: "integrations", column: "status", rowID: integration.id)
        }
        integration.status = parsed
        integration.statusReason = try row.optionalString("status_reason")
        return integration
    }

    /// The Connection of `app` × `integration`, created on first use.
    public func findOrCreateConnection(app: App, integration: Integration, now: Date, on db: any SQLDatabase) async throws -> Connection {
        if let row = try await db.raw(
            "SELECT id, created_at FROM connections WHERE app_id = \(bind: app.id) AND integration_id = \(bind: integration.id)"
        ).first() {
            return Connection(
                id: try row.string("id"),
                tenantID: app.tenantID,
                appID: app.id,
                integrationID: integration.id,
                integrationKey: integration.key,
                createdAt: try row.date("created_at")
            )
        }
        let connection = Connection(
            id: NewID.make(),
            tenantID: app.tenantID,
            appID: app.id,
            integrationID: integration.id,
            integrationKey: integration.key,
            createdAt: now
        )
        let inserted = try await db.raw(
            """
            INSERT INTO connections (id, tenant_id, app_id, integration_id, created_at)
            VALUES (\(bind: connection.id), \(bind: app.tenantID), \(bind: app.id), \(bind: integration.id), \(bind: now.ms))
            ON CONFLICT (app_id, integration_id) DO NOTHING RETURNING id
            """
        ).first()
        if inserted != nil { return connection }
        guard
            let row = try await db.raw(
                "SELECT id, created_at FROM connections WHERE app_id = \(bind: app.id) AND integration_id = \(bind: integration.id)"
            ).first()
        else { throw LatchkeyError.conflict("The connection changed while it was being created; try again.") }
        return Connection(
            id: try row.string("id"),
            tenantID: app.tenantID,
            appID: app.id,
            integrationID: integration.id,
            integrationKey: integration.key,
            createdAt: try row.date("created_at")
        )
    }

    /// The connection `id` if it belongs to `tenantID`.
    public func connection(id: String, tenantID: String) async throws -> Connection? {
        try await database.read { db in
            try await db.raw(
                """
                SELECT c.id, c.tenant_id, c.app_id, c.integration_id, c.created_at, i.key AS integration_key
                FROM connections c JOIN integrations i ON i.id = c.integration_id
                WHERE c.id = \(bind: id) AND c.tenant_id = \(bind: tenantID)
                """
            ).first().map { row in
                Connection(
                    id: try row.string("id"),
                    tenantID: try row.string("tenant_id"),
                    appID: try row.string("app_id"),
                    integrationID: try row.string("integration_id"),
                    integrationKey: try row.string("integration_key"),
                    createdAt: try row.date("created_at")
                )
            }
        }
    }
}

extension DirectoryRepository {
    /// Every Connection of the tenant, by integration key.
    public func connections(tenantID: String) async throws -> [Connection] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT c.id, c.tenant_id, c.app_id, c.integration_id, c.created_at, i.key AS integration_key
                FROM connections c JOIN integrations i ON i.id = c.integration_id
                WHERE c.tenant_id = \(bind: tenantID) ORDER BY i.key, c.id
                """
            ).all().map { row in
                Connection(
                    id: try row.string("id"),
                    tenantID: try row.string("tenant_id"),
                    appID: try row.string("app_id"),
                    integrationID: try row.string("integration_id"),
                    integrationKey: try row.string("integration_key"),
                    createdAt: try row.date("created_at")
                )
            }
        }
    }
}

extension CredentialVault {
    /// Credential counts of a Connection by status, read on their own.
    public func healthCounts(connectionID: String) async throws -> ConnectionHealth.Counts {
        try await database.read { db in try await healthCounts(connectionID: connectionID, on: db) }
    }

    /// One active credential of the Connection to probe the provider with (the shared one first), if any.
    public func probeCandidate(connectionID: String) async throws -> (Credential, CredentialSecret)? {
        let row = try await database.read { db in
            try await db.raw(
                """
                SELECT id, tenant_id FROM credentials WHERE connection_id = \(bind: connectionID) AND status = 'active' AND type = 'oauth2'
                ORDER BY CASE WHEN end_user_id IS NULL THEN 0 ELSE 1 END, last_used_at DESC, id LIMIT 1
                """
            ).first()
        }
        guard let row, let loaded = try await load(id: try row.string("id"), tenantID: try row.string("tenant_id")) else { return nil }
        return (loaded.stored.credential, loaded.secret)
    }
}
