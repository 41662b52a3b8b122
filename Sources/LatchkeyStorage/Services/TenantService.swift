import Foundation
public import LatchkeyCore
public import Logging
import SQLKit

/// Tenants and their console apps, admin API keys and the first-admin setup.
public struct TenantService: Sendable {
    public let directory: DirectoryRepository
    public let adminKeys: AdminKeyRepository
    public let users: UserRepository
    let adminKeyCache: AdminKeyCache
    let database: Database
    let keyring: Keyring
    let audit: AuditLog
    let clock: any LatchkeyClock
    let logger: Logger

    public static let defaultSlug = "default"

    public init(database: Database, keyring: Keyring, audit: AuditLog, clock: any LatchkeyClock, logger: Logger) {
        self.database = database
        self.directory = DirectoryRepository(database: database)
        self.adminKeys = AdminKeyRepository(database: database)
        self.users = UserRepository(database: database)
        self.adminKeyCache = AdminKeyCache(lifetime: AdminKeyCache.lifetime(for: database))
        self.keyring = keyring
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// The default tenant, created with its console app on first start.
    public func ensureDefaultTenant() async throws -> Tenant {
        if let tenant = try await directory.tenant(slug: Self.defaultSlug) { return tenant }
        do {
            return try await createTenant(slug: Self.defaultSlug, name: "Default", actor: .system)
        } catch let error as LatchkeyError where error.code == .conflict {
            // Another instance created it at the same moment.
            guard let tenant = try await directory.tenant(slug: Self.defaultSlug) else { throw error }
            return tenant
        }
    }

    /// A new tenant with its console app and audit chain.
    public func createTenant(slug: String, name: String, actor: AuditActor) async throws -> Tenant {
        guard Self.isValidSlug(slug) else {
            throw LatchkeyError.invalidField("slug", "must be 1 to 63 lowercase letters, digits or dashes, starting with a letter")
        }
        let now = clock.now
        let tenant = Tenant(id: NewID.make(), slug: slug, name: name.isEmpty ? slug : name, createdAt: now)
        do {
            try await database.transaction { db in
                try await directory.insertTenant(tenant, on: db)
                try await directory.insertApp(App(id: NewID.make(), tenantID: tenant.id, name: "Console", kind: .console, createdAt: now), on: db)
                try await audit.repository.createHead(tenantID: tenant.id, on: db)
                try await audit.append(
                    AuditRecord(actor: actor, action: "tenant.create", target: tenant.id, details: ["slug": slug]),
                    tenantID: tenant.id,
                    on: db
                )
            }
        } catch  where Database.isUniqueViolation(error) {
            throw LatchkeyError.conflict("A tenant named \(slug) already exists.")
        }
        logger.info("tenant created", metadata: ["tenant": "\(slug)"])
        return tenant
    }

    /// The tenant `slug`, or a not-found error that names it.
    public func tenant(slug: String) async throws -> Tenant {
        guard let tenant = try await directory.tenant(slug: slug) else {
            throw LatchkeyError(.notFound, "There is no tenant named \(slug). `latchkey tenants list` shows them.")
        }
        return tenant
    }

    static func isValidSlug(_ slug: String) -> Bool {
        guard let first = slug.first, first.isLetter, first.isLowercase, slug.count <= 63 else { return false }
        return slug.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" }
    }

    // MARK: Admin keys

    /// Mints a tenant admin key (an auditor's key with `role: .auditor`: it reads and changes nothing). The plaintext
    /// is returned once; only its HMAC is stored.
    public func createAdminKey(tenantID: String, name: String, role: Role = .admin, actor: AuditActor) async throws -> (AdminKey, String) {
        guard role != .member else { throw LatchkeyError.invalidField("role", "must be admin or auditor") }
        let plaintext = SecureRandom.token(prefix: "lk_live_")
        let key = AdminKey(
            id: NewID.make(),
            tenantID: tenantID,
            name: name,
            prefix: String(plaintext.prefix(12)),
            createdAt: clock.now,
            lastUsedAt: nil,
            revokedAt: nil,
            role: role
        )
        try await database.transaction { db in
            try await adminKeys.insert(key, hash: adminKeyHash(plaintext), on: db)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "admin_key.create",
                    target: key.id,
                    details: ["name": name, "role": role.rawValue, "key_fp": keyring.fingerprint(plaintext)]
                ),
                tenantID: tenantID,
                on: db
            )
        }
        return (key, plaintext)
    }

    /// The admin key a bearer token names, or nil.
    public func authenticateAdminKey(_ token: String) async throws -> AdminKey? {
        guard token.hasPrefix("lk_live_"), token.count < 200 else { return nil }
        let hash = adminKeyHash(token)
        let now = clock.now
        if let cached = adminKeyCache.key(forHash: hash, now: now) { return cached }
        let found: AdminKey?
        do {
            found = try await adminKeys.find(hash: hash)
        } catch let error as DatabaseUnreachable {
            let lifetime = database.availability.degradedMode.lifetime
            guard lifetime > 0, let kept = adminKeyCache.degradedValue(forHash: hash, now: now, maximumAge: lifetime) else { throw error }
            return kept
        }
        guard let key = found else { return nil }
        adminKeyCache.store(key, hash: hash, now: now)
        return key
    }

    /// Revokes an admin key; it stops working at once, on every instance (``KeyCache/lifetime(for:)``).
    public func revokeAdminKey(id: String, tenantID: String, actor: AuditActor) async throws -> Bool {
        let revoked = try await adminKeys.revoke(id: id, tenantID: tenantID, now: clock.now)
        adminKeyCache.remove(keyID: id)
        if revoked {
            try await audit.append(AuditRecord(actor: actor, action: "admin_key.revoke", target: id), tenantID: tenantID)
        }
        return revoked
    }

    func adminKeyHash(_ plaintext: String) -> String { keyring.mac(plaintext, purpose: "api-key-index") }

    // MARK: First admin

    /// A one-time setup token while the tenant has no admin (valid 24 h); nil when an admin exists. Issuing one
    /// invalidates every earlier setup token of the tenant, so at most one setup link works at a time.
    public func issueSetupToken(tenantID: String) async throws -> String? {
        guard try await !users.adminExists(tenantID: tenantID) else { return nil }
        let token = SecureRandom.token()
        let now = clock.now
        try await users.replaceSetupToken(hash: setupTokenHash(token), tenantID: tenantID, now: now, expiresAt: now.addingTimeInterval(86_400))
        return token
    }

    public func setupTokenIsValid(_ token: String, tenantID: String) async throws -> Bool {
        guard token.count < 200 else { return false }
        return try await users.setupTokenValid(hash: setupTokenHash(token), tenantID: tenantID, now: clock.now)
    }

    /// Creates the first admin with a bcrypt hash computed by the caller, consuming the setup token.
    public func completeSetup(
        token: String,
        tenantID: String,
        email: String,
        displayName: String,
        passwordHash: String,
        actor: AuditActor
    ) async throws
        -> User
    {
        let user = User(id: NewID.make(), tenantID: tenantID, email: email, displayName: displayName, isAdmin: true, createdAt: clock.now)
        let created = try await database.transaction { db -> Bool in
            guard try await users.consumeSetupToken(hash: setupTokenHash(token), tenantID: tenantID, now: clock.now, on: db) else { return false }
            try await users.insert(user, passwordHash: passwordHash, on: db)
            try await audit.append(
                AuditRecord(actor: actor, action: "admin.setup", target: user.id, details: ["email": email], person: user.id),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        guard created else {
            throw LatchkeyError(.forbidden, "This setup link was already used or has expired. Restart Latchkey to print a new one.")
        }
        return user
    }

    /// Creates a console user with a password hash computed by the caller (bcrypt). Audited.
    public func createUser(
        tenantID: String,
        email: String,
        displayName: String,
        passwordHash: String,
        role: Role,
        actor: AuditActor
    ) async throws -> User {
        let user = User(id: NewID.make(), tenantID: tenantID, email: email, displayName: displayName, role: role, createdAt: clock.now)
        do {
            try await database.transaction { db in
                try await users.insert(user, passwordHash: passwordHash, on: db)
                try await audit.append(
                    AuditRecord(
                        actor: actor,
                        action: "user.create",
                        target: user.id,
                        details: ["email": email, "role": role.rawValue, "admin": String(role == .admin)],
                        person: user.id
                    ),
                    tenantID: tenantID,
                    on: db
                )
            }
        } catch  where Database.isUniqueViolation(error) {
            throw LatchkeyError.conflict("A user with the email \(email) already exists.")
        }
        logger.info("user created", metadata: ["user_id": "\(user.id)"])
        return user
    }

    /// `createUser` with the two roles the console had before auditors.
    public func createUser(
        tenantID: String,
        email: String,
        displayName: String,
        passwordHash: String,
        isAdmin: Bool,
        actor: AuditActor
    ) async throws -> User {
        try await createUser(
            tenantID: tenantID,
            email: email,
            displayName: displayName,
            passwordHash: passwordHash,
            role: isAdmin ? .admin : .member,
            actor: actor
        )
    }

    func setupTokenHash(_ token: String) -> String { keyring.mac(token, purpose: "setup-token") }

    /// A value derived from `token` for another use (for example a form's CSRF field).
    public func derivedToken(_ token: String, purpose: String) -> String { String(keyring.mac(token, purpose: purpose).prefix(32)) }
}
