import Foundation
public import LatchkeyCore
public import Logging
import SQLKit

/// Integrations of a tenant: create, change and delete them, with the OAuth client secret encrypted at rest and
/// every change audited. Checking a provider against the catalog is the caller's job (the catalog is not a storage
/// concern); this type keeps the rows consistent.
public struct IntegrationStore: Sendable {
    public let integrations: IntegrationRepository
    let database: Database
    let keyring: Keyring
    let audit: AuditLog
    let clock: any LatchkeyClock
    let logger: Logger
    /// Where `integration.misconfigured` events go (nil: none are sent).
    public var webhooks: WebhookOutbox?
    /// What `forCall` read lately, for degraded mode.
    let recentForCalls = KeyCache<RecentIntegration>(lifetime: 5, capacity: 1024)

    public init(database: Database, keyring: Keyring, audit: AuditLog, clock: any LatchkeyClock, logger: Logger) {
        self.database = database
        self.integrations = IntegrationRepository(database: database)
        self.keyring = keyring
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// What a new integration is made of.
    public struct NewIntegration: Sendable {
        public var key: String
        public var provider: String
        public var displayName: String?
        public var clientID: String?
        public var clientSecret: String?
        public var scopes: [String]
        public var enabled: Bool
        public var settings: [String: String]

        public init(
            key: String,
            provider: String,
            displayName: String? = nil,
            clientID: String? = nil,
            clientSecret: String? = nil,
            scopes: [String] = [],
            enabled: Bool = true,
            settings: [String: String] = [:]
        ) {
            self.key = key
            self.provider = provider
            self.displayName = displayName
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scopes = scopes
            self.enabled = enabled
            self.settings = settings
        }
    }

    public func create(_ new: NewIntegration, tenantID: String, actor: AuditActor) async throws -> Integration {
        let now = clock.now
        let integration = Integration(
            id: NewID.make(),
            tenantID: tenantID,
            key: new.key,
            provider: new.provider,
            enabled: new.enabled,
            clientID: new.clientID,
            scopes: new.scopes,
            createdAt: now,
            displayName: new.displayName,
            settings: new.settings,
            hasClientSecret: new.clientSecret != nil,
            version: 1,
            updatedAt: now
        )
        let sealed = try new.clientSecret.map { try keyring.seal(Data($0.utf8), context: integration.clientSecretContext) }
        let created = try await database.transaction { db -> Bool in
            guard try await integrations.insert(integration, sealedSecret: sealed, on: db) else { return false }
            var details = ["provider": new.provider, "enabled": String(new.enabled)]
            if let secret = new.clientSecret { details["client_secret_fp"] = keyring.fingerprint(secret) }
            try await audit.append(
                AuditRecord(actor: actor, action: "integration.create", target: integration.key, service: integration.key, details: details),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        guard created else {
            throw LatchkeyError.conflict("An integration with the key '\(new.key)' already exists; choose another key or change that one.")
        }
        logger.info("integration created", metadata: ["integration": "\(integration.key)", "provider": "\(integration.provider)"])
        return integration
    }

    /// Changes to an integration; nil fields stay as they are.
    public struct Changes: Sendable {
        public var displayName: String??
        public var clientID: String??
        /// `.some(nil)` removes the stored secret.
        public var clientSecret: String??
        public var scopes: [String]?
        public var enabled: Bool?
        public var settings: [String: String]?

        public init(
            displayName: String?? = nil,
            clientID: String?? = nil,
            clientSecret: String?? = nil,
            scopes: [String]? = nil,
            enabled: Bool? = nil,
            settings: [String: String]? = nil
        ) {
            self.displayName = displayName
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scopes = scopes
            self.enabled = enabled
            self.settings = settings
        }

        var fieldNames: [String] {
            var names: [String] = []
            if displayName != nil { names.append("displayName") }
            if clientID != nil { names.append("clientId") }
            if clientSecret != nil { names.append("clientSecret") }
            if scopes != nil { names.append("scopes") }
            if enabled != nil { names.append("enabled") }
            if settings != nil { names.append("settings") }
            return names
        }
    }

    /// Applies `changes` with a fenced write, retrying when another writer got there first.
    public func update(key: String, tenantID: String, changes: Changes, actor: AuditActor) async throws -> Integration {
        for _ in 0..<5 {
            guard var integration = try await integrations.find(key: key, tenantID: tenantID) else {
                throw LatchkeyError.notFound("integration")
            }
            if let value = changes.displayName { integration.displayName = value }
            if let value = changes.clientID { integration.clientID = value }
            if let value = changes.scopes { integration.scopes = value }
            if let value = changes.enabled { integration.enabled = value }
            if let value = changes.settings { integration.settings = value }
            integration.updatedAt = clock.now
            var sealed: Data?? = .none
            if let secret = changes.clientSecret {
                sealed = .some(try secret.map { try keyring.seal(Data($0.utf8), context: integration.clientSecretContext) })
                integration.hasClientSecret = secret != nil
            }
            let current = integration
            let written = try await database.transaction { db -> Bool in
                guard try await integrations.updateFenced(current, sealedSecret: sealed, on: db) else { return false }
                if changes.clientID != nil || changes.clientSecret != nil {
                    // New client details: give them a chance.
                    try await db.raw("UPDATE integrations SET status = 'ok', status_reason = NULL WHERE id = \(bind: current.id)").run()
                }
                var details = ["fields": changes.fieldNames.joined(separator: ",")]
                if let secret = changes.clientSecret ?? nil { details["client_secret_fp"] = keyring.fingerprint(secret) }
                try await audit.append(
                    AuditRecord(actor: actor, action: "integration.update", target: current.key, service: current.key, details: details),
                    tenantID: tenantID,
                    on: db
                )
                return true
            }
            if written {
                integration.version += 1
                return integration
            }
        }
        throw LatchkeyError.conflict("The integration kept changing while it was being updated; try again.")
    }

    /// Deletes the integration. Refused while credentials still hang under it, so that nothing is lost silently.
    public func delete(key: String, tenantID: String, actor: AuditActor) async throws {
        guard let integration = try await integrations.find(key: key, tenantID: tenantID) else { throw LatchkeyError.notFound("integration") }
        try await database.transaction { db in
            let count = try await integrations.credentialCount(integrationID: integration.id, on: db)
            guard count == 0 else {
                throw LatchkeyError.conflict(
                    "The integration '\(key)' still has \(count) connected account(s). Disconnect them first, or disable the integration instead."
                )
            }
            guard try await integrations.delete(id: integration.id, tenantID: tenantID, on: db) else { throw LatchkeyError.notFound("integration") }
            try await audit.append(
                AuditRecord(actor: actor, action: "integration.delete", target: key, service: key),
                tenantID: tenantID,
                on: db
            )
        }
    }

    /// Marks an integration `ok` or `misconfigured` (its OAuth client was refused), with a reason. Returns the
    /// integration when its status changed.
    @discardableResult
    public func setStatus(key: String, tenantID: String, status: IntegrationStatus, reason: String?) async throws -> Integration? {
        let changed = try await database.transaction { db -> Bool in
            let updated =
                try await db.raw(
                    """
                    UPDATE integrations SET status = \(bind: status.rawValue), status_reason = \(bind: reason)
                    WHERE tenant_id = \(bind: tenantID) AND key = \(bind: key) AND status <> \(bind: status) RETURNING id
                    """
                ).first() != nil
            if updated {
                try await audit.append(
                    AuditRecord(
                        actor: .system,
                        action: "integration.status",
                        target: key,
                        service: key,
                        details: ["status": status.rawValue, "reason": reason ?? ""]
                    ),
                    tenantID: tenantID,
                    on: db
                )
                if status == .misconfigured, let webhooks {
                    var data: [String: WebhookValue] = ["integration": .string(key), "status": .string(status.rawValue)]
                    if let reason { data["reason"] = .string(reason) }
                    try await webhooks.enqueue(.integrationMisconfigured, tenantID: tenantID, data: data, on: db)
                }
            }
            return updated
        }
        guard changed else { return nil }
        logger.warning("integration status changed", metadata: ["integration": "\(key)", "status": "\(status)"])
        return try await integrations.find(key: key, tenantID: tenantID)
    }

    /// Marks an integration whose OAuth client the provider refused (`invalid_client`): audited, an
    /// `integration.misconfigured` webhook event, a banner on the admin pages; cleared when its client changes.
    /// Nothing happens when it is already marked.
    public func markMisconfigured(_ integration: Integration, reason: String) async throws {
        _ = try await setStatus(key: integration.key, tenantID: integration.tenantID, status: .misconfigured, reason: reason)
    }

    /// The decrypted OAuth client secret, for token requests only.
    public func clientSecret(of integration: Integration) async throws -> String? {
        guard let sealed = try await integrations.sealedClientSecret(id: integration.id, tenantID: integration.tenantID) else { return nil }
        return String(decoding: try keyring.open(sealed, context: integration.clientSecretContext), as: UTF8.self)
    }
}
