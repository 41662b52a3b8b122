import Crypto
import Foundation
public import LatchkeyCore
public import Logging
import SQLKit

/// Opens, creates and rotates the keyring: data keys wrapped under the master key, a key-check value, and the
/// active data-key version.
public struct KeyManager: Sendable {
    public let repository: KeyringRepository
    let database: Database
    let provider: any KeyProvider
    let clock: any LatchkeyClock
    let logger: Logger

    static let checkValueSetting = "key_check_value"
    static let activeVersionSetting = "active_data_key_version"
    /// The master key as a key service (AWS KMS) wrapped it, base64; only with a ``WrappedMasterKeyProvider``.
    static let wrappedMasterKeySetting = "wrapped_master_key"

    public init(database: Database, provider: any KeyProvider, clock: any LatchkeyClock, logger: Logger) {
        self.database = database
        self.repository = KeyringRepository(database: database)
        self.provider = provider
        self.clock = clock
        self.logger = logger
    }

    /// What `open` found or did.
    public struct Opened: Sendable {
        public var keyring: Keyring
        /// True when this start generated the master key (print the "back this up" line).
        public var createdMasterKey: Bool
    }

    /// Loads the keyring, creating everything on a brand-new database. Refuses (with a message that says what to do)
    /// a missing or different master key.
    public func open() async throws -> Opened {
        do {
            return try await openOnce()
        } catch  where Database.isUniqueViolation(error) {
            // Another instance initialised the keyring at the same moment: use theirs.
            return try await openOnce()
        }
    }

    private func openOnce() async throws -> Opened {
        var checkValue = try await repository.setting(Self.checkValueSetting)
        if checkValue == nil, try await repository.encryptedRowCount() > 0 {
            // Another instance may have initialised the keyring between the two reads; its check value is then visible.
            checkValue = try await repository.setting(Self.checkValueSetting)
            if checkValue == nil {
                throw KeyError(
                    description: "The database holds encrypted data but no key-check value; refusing to start. Restore the database from a backup."
                )
            }
        }
        var master = try await loadMaster()
        var created = false
        if let checkValue {
            guard let master else { throw missingMasterKey() }
            guard master.checkValue == checkValue else { throw KeyError.masterKeyMismatch(source: provider.sourceDescription) }
            return Opened(keyring: try await load(master: master), createdMasterKey: false)
        }
        var wrapped: Data?
        if master == nil {
            if let service = provider as? any WrappedMasterKeyProvider {
                let generated = try await service.generateWrappedMasterKey()
                master = generated.key
                wrapped = generated.wrapped
            } else {
                master = try await provider.createMasterKey()
            }
            created = true
        }
        let key = master!
        let now = clock.now
        try await database.transaction { db in
            try await repository.insert(
                try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: 1, master: key, createdAt: now),
                on: db
            )
            try await repository.insert(
                try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .hmac, version: 1, master: key, createdAt: now),
                on: db
            )
            try await repository.setSetting(Self.activeVersionSetting, "1", on: db)
            try await repository.setSetting(Self.checkValueSetting, key.checkValue, on: db)
            if let wrapped { try await repository.setSetting(Self.wrappedMasterKeySetting, wrapped.base64EncodedString(), on: db) }
        }
        logger.info("keyring created", metadata: ["data_key_version": "1"])
        return Opened(keyring: try await load(master: key), createdMasterKey: created)
    }

    private func load(master: MasterKey) async throws -> Keyring {
        let (keys, active) = try await currentKeys()
        return try Keyring(master: master, keys: keys, activeVersion: active)
    }

    private func currentKeys() async throws -> ([WrappedKey], Int) {
        let keys = try await repository.keys()
        guard let activeText = try await repository.setting(Self.activeVersionSetting), let active = Int(activeText) else {
            throw KeyError(description: "The keyring has no active data-key version.")
        }
        return (keys, active)
    }

    /// Re-reads the keyring from the database when another process rotated it. Returns true when it changed.
    @discardableResult
    public func refresh(_ keyring: Keyring) async throws -> Bool {
        let (keys, active) = try await currentKeys()
        let versions = keys.filter { $0.purpose == .data }.map(\.version).sorted()
        guard active != keyring.activeVersion || versions != keyring.versions else { return false }
        try keyring.reload(keys: keys, activeVersion: active)
        logger.info("keyring reloaded", metadata: ["active_data_key_version": "\(active)"])
        return true
    }

    /// Adds a new data-key version and makes it active; old versions stay readable until re-wrapped.
    public func rotate(_ keyring: Keyring) async throws -> Int {
        let master = keyring.masterKey
        let now = clock.now
        let version = try await database.transaction { db in
            let row = try await db.raw("SELECT MAX(version) AS v FROM keyring WHERE purpose = 'data'").first()
            let next = (try row?.optionalInt("v") ?? 0) + 1
            try await repository.insert(
                try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: next, master: master, createdAt: now),
                on: db
            )
            try await repository.setSetting(Self.activeVersionSetting, String(next), on: db)
            return next
        }
        try await refresh(keyring)
        logger.info("data key rotated", metadata: ["data_key_version": "\(version)"])
        return version
    }

    /// Removes data-key version `version` from the keyring, once nothing uses it: not the active version, and no
    /// sealed value in any table (credentials, OAuth client secrets, webhook signing secrets, connect sessions) still
    /// on it. Refuses otherwise, saying how many values are left. Running servers drop the key at their next reload.
    public func retire(_ keyring: Keyring, version: Int) async throws {
        let (keys, active) = try await currentKeys()
        guard keys.contains(where: { $0.purpose == .data && $0.version == version }) else {
            throw KeyError(description: "Data key version \(version) is not in the keyring; `latchkey keys status` lists the versions.")
        }
        guard version != active else {
            throw KeyError(
                description:
                    "Data key version \(version) is the active one. Rotate first (`latchkey keys rotate`), let re-wrap finish, then retire it."
            )
        }
        try await database.transaction { db in
            // Counted in the transaction that deletes, so a value re-wrap has not moved yet keeps its key.
            let inUse = try await repository.countsByVersion(on: db)[version] ?? 0
            guard inUse == 0 else {
                throw KeyError(
                    description:
                        "Data key version \(version) still seals \(inUse) stored value(s); retiring it would make them unreadable. Wait for re-wrap to finish (`latchkey keys status`) or run `latchkey keys rotate --now`, then retry. Values that cannot be read stay on their old version: reconnect those accounts or remove them first."
                )
            }
            try await db.raw("DELETE FROM keyring WHERE purpose = 'data' AND version = \(bind: version)").run()
        }
        try await refresh(keyring)
        logger.info("data key retired", metadata: ["data_key_version": "\(version)"])
    }

    /// Re-wraps every keyring row under `newMaster` and records its key-check value, in one transaction; then hands
    /// the new key to the key provider. Credential rows are not touched.
    public func rotateMaster(_ keyring: Keyring, to newMaster: MasterKey, updateProvider: Bool = true) async throws {
        try await rotateMaster(keyring, to: newMaster, wrapped: nil)
        if updateProvider { try await provider.replaceMasterKey(with: newMaster) }
        logger.info("master key rotated")
    }

    func rotateMaster(_ keyring: Keyring, to newMaster: MasterKey, wrapped: Data?) async throws {
        let old = keyring.masterKey
        try await database.transaction { db in
            for key in try await repository.keys() {
                let raw = try key.unwrap(with: old)
                try await repository.replaceWrapped(
                    try WrappedKey.wrap(raw, purpose: key.purpose, version: key.version, master: newMaster, createdAt: key.createdAt),
                    on: db
                )
            }
            try await repository.setSetting(Self.checkValueSetting, newMaster.checkValue, on: db)
            if let wrapped { try await repository.setSetting(Self.wrappedMasterKeySetting, wrapped.base64EncodedString(), on: db) }
        }
    }

    /// Counts per data-key version and the re-wrap progress.
    public struct Status: Sendable {
        public var activeVersion: Int
        public var versions: [Int]
        public var rowsByVersion: [Int: Int]
        public var rewrap: RewrapProgress?
        /// Rows Latchkey cannot read (flagged by re-wrap or any read): how many, and the first ids. Re-wrap cannot
        /// move them; each needs a reconnect or a restore.
        public var unreadableCount: Int = 0
        public var unreadableIDs: [String] = []
    }

    public func status() async throws -> Status {
        let (keys, active) = try await currentKeys()
        let unreadable = try await CredentialRepository(database: database).unreadableRows()
        return Status(
            activeVersion: active,
            versions: keys.filter { $0.purpose == .data }.map(\.version).sorted(),
            rowsByVersion: try await repository.countsByVersion(),
            rewrap: try await repository.rewrapProgress(),
            unreadableCount: unreadable.count,
            unreadableIDs: unreadable.ids
        )
    }
}
