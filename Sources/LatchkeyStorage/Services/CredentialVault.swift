public import Foundation
public import LatchkeyCore
public import Logging
import Metrics
import SQLKit

/// The vault's own surface: create, read, list, reveal, update, revoke and delete credentials. Secrets are sealed
/// with the keyring before they reach the database; every secret access and change is audited in the same
/// transaction as the change.
public struct CredentialVault: Sendable {
    public let credentials: CredentialRepository
    public let directory: DirectoryRepository
    public let database: Database
    let keyring: Keyring
    let keyManager: KeyManager
    let audit: AuditLog
    /// The process's group-commit audit writer: reveals and token hand-outs, and the OAuth token endpoint's events.
    public let auditWriter: AuditWriter
    /// Sealed rows of the token path (`CredentialVault+TokenPath.swift`).
    let tokenCache: CredentialCache
    let tokenFingerprints = FingerprintMemo()
    /// The clock every rule of the vault and its callers reads (a test clock in tests).
    public let clock: any LatchkeyClock
    /// Spreads refresh times so that credentials issued together are not refreshed together.
    let random: any RandomSource
    let logger: Logger

    /// Where credential and health events are queued for the tenant's webhook; none when nil.
    public var webhooks: WebhookOutbox?

    public init(
        database: Database,
        keyring: Keyring,
        keyManager: KeyManager,
        audit: AuditLog,
        clock: any LatchkeyClock,
        random: any RandomSource = SystemRandom(),
        logger: Logger
    ) {
        self.database = database
        self.credentials = CredentialRepository(database: database)
        self.directory = DirectoryRepository(database: database)
        self.keyring = keyring
        self.keyManager = keyManager
        self.audit = audit
        self.auditWriter = AuditWriter(database: database, clock: clock, personKeys: audit.personKeys)
        self.tokenCache = CredentialCache()
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    /// A credential to store.
    public struct NewCredential: Sendable {
        public var integration: String
        public var externalUserID: String?
        public var connectionID: String?
        public var type: CredentialType
        public var secret: CredentialSecret
        public var expiresAt: Date?
        public var scopes: [String]
        public var label: String?
        public var providerAccount: String?
        public var connectionConfig: [String: String]
        /// The provider's stable id for the account, when known.
        public var providerAccountID: String? = nil
        /// Which OAuth client issued the credential: "integration" for the integration's own client, "import" for imports.
        public var issuedBy: String = "import"
        /// When to refresh it in the background.
        public var refreshPolicy: RefreshPolicy = .standard

        public init(
            integration: String,
            externalUserID: String? = nil,
            connectionID: String? = nil,
            type: CredentialType,
            secret: CredentialSecret,
            expiresAt: Date? = nil,
            scopes: [String] = [],
            label: String? = nil,
            providerAccount: String? = nil,
            connectionConfig: [String: String] = [:]
        ) {
            self.integration = integration
            self.externalUserID = externalUserID
            self.connectionID = connectionID
            self.type = type
            self.secret = secret
            self.expiresAt = expiresAt
            self.scopes = scopes
            self.label = label
            self.providerAccount = providerAccount
            self.connectionConfig = connectionConfig
        }
    }

    /// Stores a credential under the console app's Connection for the integration (or the given Connection),
    /// owned by the named end user or shared. Integration, Connection and end user are created on first use.
    public func create(_ new: NewCredential, tenantID: String, actor: AuditActor) async throws -> Credential {
        try await createReporting(new, tenantID: tenantID, actor: actor).credential
    }

    /// Like `create`, and says whether the integration was created by this import (then disabled: it has no OAuth
    /// client, so it is not offered to anyone until an admin sets one and enables it).
    public func createReporting(
        _ new: NewCredential,
        tenantID: String,
        actor: AuditActor
    ) async throws -> (credential: Credential, createdIntegration: Bool) {
        let now = clock.now
        guard let app = try await directory.consoleApp(tenantID: tenantID) else { throw LatchkeyError.notFound("tenant") }
        var connectionOverride: Connection?
        if let connectionID = new.connectionID {
            let connection = try await connection(id: connectionID, tenantID: tenantID, actor: actor)
            guard connection.integrationKey == new.integration else {
                throw LatchkeyError.invalidField("connectionId", "belongs to integration \(connection.integrationKey), not \(new.integration)")
            }
            connectionOverride = connection
        }
        let id = NewID.make()
        var mayBeDefault = true
        while true {
            do {
                let credential = try await insert(
                    new,
                    id: id,
                    tenantID: tenantID,
                    app: app,
                    connectionOverride: connectionOverride,
                    mayBeDefault: mayBeDefault,
                    actor: actor,
                    now: now
                )
                Self.count("create", "success")
                logger.info("credential stored", metadata: ["credential_id": "\(id)", "integration": "\(new.integration)"])
                if credential.createdIntegration {
                    logger.notice("integration created disabled by an import", metadata: ["integration": "\(new.integration)"])
                }
                return credential
            } catch  where mayBeDefault && Database.isUniqueViolation(error) {
                // A concurrent import became the owner's default first.
                mayBeDefault = false
            }
        }
    }

    private func insert(
        _ new: NewCredential,
        id: String,
        tenantID: String,
        app: App,
        connectionOverride: Connection?,
        mayBeDefault: Bool,
        actor: AuditActor,
        now: Date
    ) async throws -> (credential: Credential, createdIntegration: Bool) {
        try await database.transaction { db -> (credential: Credential, createdIntegration: Bool) in
            let connection: Connection
            var createdIntegration = false
            if let connectionOverride {
                connection = connectionOverride
            } else {
                let found = try await directory.findOrCreateIntegration(tenantID: tenantID, key: new.integration, now: now, on: db)
                createdIntegration = found.created
                connection = try await directory.findOrCreateConnection(app: app, integration: found.integration, now: now, on: db)
            }
            var endUser: EndUser?
            if let external = new.externalUserID {
                endUser = try await directory.findOrCreateEndUser(tenantID: tenantID, appID: connection.appID, externalID: external, now: now, on: db)
            }
            let ownerClause: SQLQueryString =
                endUser.map { "end_user_id = \(bind: $0.id)" } ?? "end_user_id IS NULL"
            let existing =
                try await db.raw(
                    "SELECT COUNT(*) AS n FROM credentials WHERE connection_id = \(bind: connection.id) AND \(ownerClause)"
                ).first()?.int("n") ?? 0
            var credential = Credential(
                id: id,
                tenantID: tenantID,
                connectionID: connection.id,
                endUserID: endUser?.id,
                externalUserID: endUser?.externalID,
                integrationKey: connection.integrationKey,
                type: new.type,
                status: .active,
                statusReason: nil,
                label: new.label,
                isDefault: mayBeDefault && existing == 0,
                scopes: new.scopes,
                expiresAt: new.expiresAt,
                providerAccount: new.providerAccount,
                connectionConfig: new.connectionConfig,
                issuedBy: new.issuedBy,
                keyVersion: keyring.activeVersion,
                version: 1,
                connectedAt: now,
                lastRefreshedAt: nil,
                lastUsedAt: nil,
                createdAt: now,
                updatedAt: now,
                providerAccountID: new.providerAccountID,
                refreshDueAt: new.refreshPolicy.dueDate(
                    expiresAt: new.expiresAt,
                    hasRefreshToken: new.secret.refreshToken != nil,
                    lastRefreshed: now,
                    spread: random.unit()
                )
            )
            let payload = try seal(new.secret, for: &credential)
            let inserted = credential
            try await withHealthWatch(connectionID: connection.id, tenantID: tenantID, on: db) {
                try await credentials.insert(inserted, payload: payload, on: db)
            }
            try await emit(.credentialCreated, inserted, extra: ["type": new.type.rawValue], on: db)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.create",
                    target: credential.id,
                    service: credential.integrationKey,
                    details: fingerprints(of: new.secret).merging(["type": new.type.rawValue]) { a, _ in a }
                ),
                tenantID: tenantID,
                on: db
            )
            return (credential, createdIntegration)
        }
    }

    /// Metadata of one credential. An id of another tenant answers not-found, and the probe is audited.
    public func get(id: String, tenantID: String, actor: AuditActor) async throws -> Credential {
        try await stored(id: id, tenantID: tenantID, actor: actor).credential
    }

    /// A page of credentials. A row that cannot be read is listed as unreadable in its place; the first listing that
    /// finds it flags it (`needs_reauth`, reason `stored_data_unreadable`) and audits it, later listings only log it.
    public func list(tenantID: String, filter: CredentialFilter, actor: AuditActor = .system) async throws -> CredentialPage {
        let page = try await credentials.list(tenantID: tenantID, filter: filter)
        for row in page.unreadable {
            try await flagDamaged(row, tenantID: tenantID, actor: actor)
        }
        return page
    }

    /// The decrypted secret. Audited whether it succeeds or not; an altered ciphertext returns nothing. The row is
    /// read through the token path's cache of sealed rows (`CredentialVault+TokenPath.swift`), never behind a write.
    public func reveal(id: String, tenantID: String, actor: AuditActor) async throws -> (Credential, CredentialSecret) {
        let (stored, opened) = try await sealedForUse(id: id, tenantID: tenantID, actor: actor)
        let secret: CredentialSecret
        do {
            if let opened { secret = opened } else { secret = try await open(stored, actor: actor) }
        } catch let error as LatchkeyError where error.code == .decryptionFailed {
            Self.count("reveal", "failure")
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.reveal",
                    target: id,
                    service: stored.credential.integrationKey,
                    result: .failure,
                    details: ["reason": "decryption_failed"]
                ),
                tenantID: tenantID
            )
            throw error
        }
        let now = clock.now
        try await auditWriter.append(
            AuditRecord(
                actor: actor,
                action: "credential.reveal",
                target: id,
                service: stored.credential.integrationKey,
                details: fingerprints(of: secret)
            ),
            tenantID: tenantID
        )
        Self.count("reveal", "success")
        var credential = stored.credential
        credential.lastUsedAt = now
        return (credential, secret)
    }

    /// Deletes the credential (after the caller revoked it at the provider, best effort). Audited.
    public func delete(id: String, tenantID: String, actor: AuditActor, providerRevocation: ProviderRevocation = .notSupported) async throws {
        let current = try await stored(id: id, tenantID: tenantID, actor: actor)
        let deleted = try await database.transaction { db -> Bool in
            let removed = try await withHealthWatch(connectionID: current.credential.connectionID, tenantID: tenantID, on: db) {
                try await credentials.delete(id: id, tenantID: tenantID, on: db)
            }
            guard removed else { return false }
            if providerRevocation == .revoked {
                try await emit(.credentialRevoked, current.credential, on: db)
            }
            try await emit(.credentialDeleted, current.credential, extra: ["providerRevocation": providerRevocation.rawValue], on: db)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.delete",
                    target: id,
                    service: current.credential.integrationKey,
                    details: ["provider_revocation": providerRevocation.rawValue]
                ),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        guard deleted else { throw LatchkeyError.notFound("credential") }
        Self.count("delete", "success")
    }
}
