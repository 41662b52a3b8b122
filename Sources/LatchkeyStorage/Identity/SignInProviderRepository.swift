public import Foundation
public import LatchkeyCore
import SQLKit

/// How an integration signs people in: whether it does, whether it creates accounts for people it does not know, and
/// for which email domains.
public struct SignInProviderSettings: Sendable, Equatable, Codable {
    /// The integration (its key) whose provider signs people in.
    public var integrationKey: String
    public var enabled: Bool
    /// Whether someone the provider vouches for but who has no account here gets one (a member, no password).
    public var createUsers: Bool
    /// Lower-cased email domains accounts are created for; empty means any. Only used with ``createUsers``.
    public var allowedDomains: [String]
    public var updatedAt: Date

    public init(integrationKey: String, enabled: Bool, createUsers: Bool = false, allowedDomains: [String] = [], updatedAt: Date) {
        self.integrationKey = integrationKey
        self.enabled = enabled
        self.createUsers = createUsers
        self.allowedDomains = allowedDomains
        self.updatedAt = updatedAt
    }

    /// Whether an account may be created for `email` (its domain is allowed, or any is).
    public func allows(email: String) -> Bool {
        guard let at = email.lastIndex(of: "@") else { return false }
        let domain = email[email.index(after: at)...].lowercased()
        return !domain.isEmpty && (allowedDomains.isEmpty || allowedDomains.contains(domain))
    }
}

/// A single sign-on or social sign-in under way: kept from the redirect to the provider until its answer, single use.
public struct SignInFlow: Sendable, Equatable {
    public var tenantID: String
    public var integrationKey: String
    /// The browser that started it (a value derived from its id, never the id itself).
    public var browserBinding: String
    public var nonce: String
    /// Set when a signed-in person adds this provider to their account rather than signing in.
    public var linkUserID: String?
    public var next: String
    public var expiresAt: Date

    public init(
        tenantID: String,
        integrationKey: String,
        browserBinding: String,
        nonce: String,
        linkUserID: String?,
        next: String,
        expiresAt: Date
    ) {
        self.tenantID = tenantID
        self.integrationKey = integrationKey
        self.browserBinding = browserBinding
        self.nonce = nonce
        self.linkUserID = linkUserID
        self.next = next
        self.expiresAt = expiresAt
    }
}

/// The tables `sign_in_providers` (per integration of a tenant) and `sign_in_provider_flows` (sign-ins under way,
/// found by a hash of their `state`, taken once).
public struct SignInProviderRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The tenant's settings, by integration key.
    public func all(tenantID: String) async throws -> [SignInProviderSettings] {
        try await database.read { db in
            try await db.raw("SELECT * FROM sign_in_providers WHERE tenant_id = \(bind: tenantID) ORDER BY integration_key").all().map(
                Self.settings(from:)
            )
        }
    }

    /// One integration's settings, if an admin set any.
    public func settings(integrationKey: String, tenantID: String) async throws -> SignInProviderSettings? {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM sign_in_providers WHERE tenant_id = \(bind: tenantID) AND integration_key = \(bind: integrationKey)"
            ).first().map(Self.settings(from:))
        }
    }

    /// Stores an integration's settings (created or replaced), with the audit event of the change in the same transaction.
    public func save(_ settings: SignInProviderSettings, tenantID: String, audit: AuditLog, record: AuditRecord) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO sign_in_providers (tenant_id, integration_key, enabled, create_users, allowed_domains, created_at, updated_at)
                VALUES (\(bind: tenantID), \(bind: settings.integrationKey), \(bind: settings.enabled ? 1 : 0), \(bind: settings.createUsers ? 1 : 0),
                  \(bind: settings.allowedDomains.joined(separator: " ")), \(bind: settings.updatedAt.ms), \(bind: settings.updatedAt.ms))
                ON CONFLICT (tenant_id, integration_key) DO UPDATE SET enabled = excluded.enabled, create_users = excluded.create_users,
                  allowed_domains = excluded.allowed_domains, updated_at = excluded.updated_at
                """
            ).run()
            try await audit.append(record, tenantID: tenantID, on: db)
        }
    }

    /// Removes an integration's settings (it no longer signs anyone in); false when there were none.
    public func delete(integrationKey: String, tenantID: String, audit: AuditLog, record: AuditRecord) async throws -> Bool {
        try await database.transaction { db in
            let gone = try await db.raw(
                """
                DELETE FROM sign_in_providers WHERE tenant_id = \(bind: tenantID) AND integration_key = \(bind: integrationKey)
                RETURNING integration_key
                """
            ).all()
            guard !gone.isEmpty else { return false }
            try await audit.append(record, tenantID: tenantID, on: db)
            return true
        }
    }

    /// Keeps a sign-in under way under the hash of its `state`; drops the expired ones on the way.
    public func insertFlow(_ flow: SignInFlow, stateHash: String, now: Date) async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM sign_in_provider_flows WHERE expires_at < \(bind: now.ms)").run()
            try await db.raw(
                """
                INSERT INTO sign_in_provider_flows (state_hash, tenant_id, integration_key, browser_binding, nonce, link_user_id, next,
                  created_at, expires_at)
                VALUES (\(bind: stateHash), \(bind: flow.tenantID), \(bind: flow.integrationKey), \(bind: flow.browserBinding), \(bind: flow.nonce),
                  \(bind: flow.linkUserID), \(bind: flow.next), \(bind: now.ms), \(bind: flow.expiresAt.ms))
                """
            ).run()
        }
    }

    /// Takes the sign-in under way with this `state` hash: it is removed, so a second answer finds nothing. Nil when
    /// unknown, already taken, or expired.
    public func takeFlow(stateHash: String, now: Date) async throws -> SignInFlow? {
        let row = try await database.write { db in
            try await db.raw("DELETE FROM sign_in_provider_flows WHERE state_hash = \(bind: stateHash) RETURNING *").first()
        }
        guard let row else { return nil }
        let flow = SignInFlow(
            tenantID: try row.string("tenant_id"),
            integrationKey: try row.string("integration_key"),
            browserBinding: try row.string("browser_binding"),
            nonce: try row.string("nonce"),
            linkUserID: try row.optionalString("link_user_id"),
            next: try row.string("next"),
            expiresAt: try row.date("expires_at")
        )
        return flow.expiresAt > now ? flow : nil
    }

    static func settings(from row: any SQLRow) throws -> SignInProviderSettings {
        SignInProviderSettings(
            integrationKey: try row.string("integration_key"),
            enabled: try row.bool("enabled"),
            createUsers: try row.bool("create_users"),
            allowedDomains: try row.string("allowed_domains").split(separator: " ").map(String.init),
            updatedAt: try row.date("updated_at")
        )
    }
}
