import Foundation
public import LatchkeyCore
public import LatchkeyProviders
public import LatchkeyStorage
public import Logging

/// The opened database, keyring and services, shared by `latchkey serve` and every CLI command.
public struct LatchkeyRuntime: Sendable {
    public let configuration: ServerConfiguration
    public let database: Database
    public let keyring: Keyring
    public let keyManager: KeyManager
    public let audit: AuditLog
    public let vault: CredentialVault
    public let tenants: TenantService
    /// The provider catalog, validated at start.
    public let catalog: ProviderCatalog
    public let integrations: IntegrationStore
    /// Where console sign-in sessions are kept.
    public let webSessionStore: any WebSessionStore
    /// Where failed sign-ins are counted.
    public let loginAttempts: any LoginAttemptStore
    public let connectSessions: ConnectSessionRepository
    /// The built-in demo provider, with `--demo`.
    public let sandbox: SandboxRegistration?
    public let defaultTenant: Tenant
    public let clock: any LatchkeyClock
    /// Spreads refresh times and retries; pinned in tests.
    public let random: any RandomSource
    public let logger: Logger
    /// True when this start generated a new master key file.
    public let createdMasterKey: Bool

    /// Opens the database, runs migrations, opens (or on first start creates) the keyring, and makes sure the
    /// default tenant exists. Fails with a plain message when the master key is missing or wrong. `keyProvider`
    /// replaces the configuration's master key source (tests pass a KMS provider over a fake KMS).
    public static func bootstrap(
        configuration: ServerConfiguration,
        keyProvider: (any KeyProvider)? = nil,
        clock: any LatchkeyClock = SystemClock(),
        random: any RandomSource = SystemRandom(),
        logger: Logger
    ) async throws
        -> LatchkeyRuntime
    {
        // A malformed LATCHKEY_MASTER_KEY is refused before anything is created or migrated.
        if let provider = configuration.keyProvider as? EnvironmentKeyProvider { _ = try await provider.loadMasterKey() }
        // A bad catalog entry is named before anything is opened.
        let catalog: ProviderCatalog
        do {
            catalog = try ProviderCatalog.bundled()
        } catch let error as CatalogError {
            throw ConfigurationError("The provider catalog is not valid: \(error.description)")
        }
        let database = try await Database.open(try configuration.database, logger: logger)
        database.availability.degradedMode = configuration.degradedMode
        database.availability.recordReachable()
        do {
            try await Migrations.run(on: database, logger: logger)
            let keyManager = KeyManager(database: database, provider: keyProvider ?? configuration.keyProvider, clock: clock, logger: logger)
            let opened = try await keyManager.open()
            let audit = AuditLog(database: database, clock: clock, keyring: opened.keyring)
            let tenants = TenantService(database: database, keyring: opened.keyring, audit: audit, clock: clock, logger: logger)
            let defaultTenant = try await tenants.ensureDefaultTenant()
            let webhooks = WebhookOutbox(database: database, keyring: opened.keyring, audit: audit, clock: clock, logger: logger)
            var integrations = IntegrationStore(database: database, keyring: opened.keyring, audit: audit, clock: clock, logger: logger)
            integrations.webhooks = webhooks
            var sandbox: SandboxRegistration?
            if configuration.demo {
                let provider = SandboxRegistration(
                    publicURL: configuration.effectivePublicURL,
                    callbackURL: configuration.callbackURL,
                    clientSecret: SecureRandom.token(),
                    clock: clock
                )
                try await provider.enable(integrations: integrations, directory: tenants.directory, database: database, tenant: defaultTenant)
                sandbox = provider
            }
            var vault = CredentialVault(
                database: database,
                keyring: opened.keyring,
                keyManager: keyManager,
                audit: audit,
                clock: clock,
                random: random,
                logger: logger
            )
            vault.webhooks = webhooks
            return LatchkeyRuntime(
                configuration: configuration,
                database: database,
                keyring: opened.keyring,
                keyManager: keyManager,
                audit: audit,
                vault: vault,
                tenants: tenants,
                catalog: catalog,
                integrations: integrations,
                webSessionStore: SQLWebSessionStore(database: database),
                loginAttempts: SQLLoginAttemptStore(database: database),
                connectSessions: ConnectSessionRepository(database: database),
                sandbox: sandbox,
                defaultTenant: defaultTenant,
                clock: clock,
                random: random,
                logger: logger,
                createdMasterKey: opened.createdMasterKey
            )
        } catch {
            await database.close()
            throw error
        }
    }

    /// The tenant a CLI `--tenant` names (the default tenant when nil).
    public func tenant(_ slug: String?) async throws -> Tenant {
        guard let slug, slug != defaultTenant.slug else { return defaultTenant }
        return try await tenants.tenant(slug: slug)
    }

    /// The scheduled data-key rotation for this runtime.
    public func keyRotationScheduler() -> KeyRotationScheduler {
        KeyRotationScheduler(
            keyManager: keyManager,
            keyring: keyring,
            audit: audit,
            auditTenantID: defaultTenant.id,
            configuration: configuration.keyRotation,
            clock: clock,
            logger: logger
        )
    }

    /// The background re-wrap service for this runtime.
    public func rewrapService() -> KeyRewrapService {
        KeyRewrapService(
            database: database,
            keyring: keyring,
            keyManager: keyManager,
            configuration: configuration.rewrap,
            clock: clock,
            logger: logger,
            vault: vault
        )
    }
}
