public import Foundation
public import LatchkeyCore
public import Logging
import SQLKit

/// Apps of a tenant: create (the `lk_app_` key is shown once), change, regenerate the key, delete with everything
/// under it, and authenticate their keys. Every change is audited in the same transaction.
public struct AppService: Sendable {
    public let apps: AppRepository
    public let configs: AppConfigRepository
    public let endUsers: EndUserRepository
    let vault: CredentialVault
    let audit: AuditLog
    let keyCache: AppKeyCache
    let logger: Logger

    /// `keyCacheLifetime`: how long a key's app is taken from the cache; by default ``KeyCache/lifetime(for:)``.
    public init(vault: CredentialVault, audit: AuditLog, logger: Logger, keyCacheLifetime: TimeInterval? = nil) {
        self.apps = AppRepository(database: vault.database)
        self.configs = AppConfigRepository(database: vault.database)
        self.endUsers = EndUserRepository(database: vault.database)
        self.vault = vault
        self.audit = audit
        self.keyCache = AppKeyCache(lifetime: keyCacheLifetime ?? AppKeyCache.lifetime(for: vault.database))
        self.logger = logger
    }

    var database: Database { vault.database }
    var keyring: Keyring { vault.keyring }
    var clock: any LatchkeyClock { vault.clock }

    /// What a new app is made of (already checked by the caller).
    public struct NewApp: Sendable {
        public var name: String
        public var description: String?
        public var branding: AppBranding
        public var allowedRedirectOrigins: [String]
        public var permissions: AppPermissions

        public init(
            name: String,
            description: String? = nil,
            branding: AppBranding = AppBranding(),
            allowedRedirectOrigins: [String] = [],
            permissions: AppPermissions = .all
        ) {
            self.name = name
            self.description = description
            self.branding = branding
            self.allowedRedirectOrigins = allowedRedirectOrigins
            self.permissions = permissions
        }
    }

    /// Creates an external app with its key. The plaintext key is returned once; only its HMAC is stored.
    public func create(_ new: NewApp, tenantID: String, actor: AuditActor) async throws -> (app: App, key: String) {
        let now = clock.now
        let key = SecureRandom.token(prefix: "lk_app_")
        var app = App(id: NewID.make(), tenantID: tenantID, name: new.name, kind: .external, createdAt: now)
        app.description = new.description
        app.branding = new.branding
        app.allowedRedirectOrigins = new.allowedRedirectOrigins
        app.permissions = new.permissions
        app.keyPrefix = Self.prefix(of: key)
        try await database.transaction { db in
            try await apps.insert(app, keyHash: keyHash(key), on: db)
            try await audit.append(
                AuditRecord(actor: actor, action: "app.create", target: app.id, details: ["name": app.name, "key_fp": keyring.fingerprint(key)]),
                tenantID: tenantID,
                on: db
            )
        }
        logger.info("app created", metadata: ["app_id": "\(app.id)"])
        return (app, key)
    }

    /// The app `id` of the tenant, or not found.
    public func app(id: String, tenantID: String) async throws -> App {
        guard let app = try await apps.find(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("app") }
        return app
    }

    /// Every app of the tenant, the console app first.
    public func list(tenantID: String) async throws -> [App] {
        try await apps.list(tenantID: tenantID)
    }

    /// Changes to an app; nil fields stay as they are.
    public struct Changes: Sendable {
        public var name: String?
        /// `.some(nil)` clears it.
        public var description: String??
        public var status: AppStatus?
        public var branding: AppBranding?
        public var allowedRedirectOrigins: [String]?
        public var permissions: AppPermissions?

        public init() {}

        /// The names of the fields that change, for the audit log.
        var fieldNames: [String] {
            var names: [String] = []
            if name != nil { names.append("name") }
            if description != nil { names.append("description") }
            if status != nil { names.append("status") }
            if branding != nil { names.append("branding") }
            if allowedRedirectOrigins != nil { names.append("allowedRedirectOrigins") }
            if permissions != nil { names.append("permissions") }
            return names
        }
    }

    /// Applies `changes`. The console app cannot be disabled. Disabling stops the key on this instance at once.
    public func update(id: String, tenantID: String, changes: Changes, actor: AuditActor) async throws -> App {
        var app = try await app(id: id, tenantID: tenantID)
        if app.kind == .console, changes.status == .disabled {
            throw LatchkeyError(
                .conflict,
                "The console app cannot be disabled: the web console and admin keys act through it.",
                fields: [.init(path: "status", message: "cannot be disabled for the console app")]
            )
        }
        if let name = changes.name { app.name = name }
        if let description = changes.description { app.description = description }
        if let status = changes.status { app.status = status }
        if let branding = changes.branding { app.branding = branding }
        if let origins = changes.allowedRedirectOrigins { app.allowedRedirectOrigins = origins }
        if let permissions = changes.permissions { app.permissions = permissions }
        app.updatedAt = clock.now
        let changed = app
        let updated = try await database.transaction { db -> Bool in
            guard try await apps.update(changed, on: db) else { return false }
            var details = ["fields": changes.fieldNames.joined(separator: ",")]
            if let status = changes.status { details["status"] = status.rawValue }
            try await audit.append(AuditRecord(actor: actor, action: "app.update", target: id, details: details), tenantID: tenantID, on: db)
            return true
        }
        guard updated else { throw LatchkeyError.notFound("app") }
        keyCache.remove(appID: id)
        return app
    }

    /// A new key for the app; the old one stops at once on this instance (on others within the cache lifetime).
    public func regenerateKey(id: String, tenantID: String, actor: AuditActor) async throws -> (app: App, key: String) {
        var app = try await app(id: id, tenantID: tenantID)
        guard app.kind == .external else {
            throw LatchkeyError.conflict("The console app has no key of its own: callers act for it with a tenant admin key (lk_live_…).")
        }
        let key = SecureRandom.token(prefix: "lk_app_")
        let now = clock.now
        app.keyPrefix = Self.prefix(of: key)
        app.updatedAt = now
        let prefix = Self.prefix(of: key)
        let replaced = try await database.transaction { db -> Bool in
            guard try await apps.replaceKey(appID: id, tenantID: tenantID, hash: keyHash(key), prefix: prefix, now: now, on: db) else {
                return false
            }
            try await audit.append(
                AuditRecord(actor: actor, action: "app.key_regenerate", target: id, details: ["key_fp": keyring.fingerprint(key)]),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        keyCache.remove(appID: id)
        guard replaced else { throw LatchkeyError.notFound("app") }
        return (app, key)
    }

    /// The app an `lk_app_` key belongs to, whatever its status (the caller refuses disabled apps), or nil.
    public func authenticate(key: String) async throws -> App? {
        guard key.hasPrefix("lk_app_"), key.count < 200 else { return nil }
        let hash = keyHash(key)
        let now = clock.now
        if let cached = keyCache.app(forHash: hash, now: now) { return cached }
        let found: App?
        do {
            found = try await apps.find(keyHash: hash)
        } catch let error as DatabaseUnreachable {
            let lifetime = database.availability.degradedMode.lifetime
            guard lifetime > 0, let kept = keyCache.degradedValue(forHash: hash, now: now, maximumAge: lifetime) else { throw error }
            return kept
        }
        guard let app = found, app.kind == .external else { return nil }
        keyCache.store(app, hash: hash, now: now)
        return app
    }

    /// Records that an app key asked for something it is not allowed.
    public func recordDenied(app: App, operation: AppPermissions.Operation, integration: String?, actor: AuditActor) async throws {
        var details = ["operation": operation.rawValue]
        details["integration"] = integration
        try await audit.append(
            AuditRecord(actor: actor, action: "app.access_denied", target: app.id, service: integration, result: .denied, details: details),
            tenantID: app.tenantID
        )
    }

    func keyHash(_ plaintext: String) -> String { keyring.mac(plaintext, purpose: "api-key-index") }

    static func prefix(of key: String) -> String { String(key.prefix(14)) }
}
