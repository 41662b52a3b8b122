import Foundation
public import LatchkeyCore
public import Logging
import Metrics
import SQLKit
public import ServiceLifecycle

/// Moves every sealed value to the active data-key version in the background, batch by batch, saving a cursor after
/// each batch so that a killed process resumes where it stopped: first the credential rows, then the other sealed
/// columns (integration and per-app OAuth client secrets, webhook signing secrets, connect sessions' sealed values).
/// Writes are fenced on the row version (credentials) or on the previous ciphertext, so a row changed meanwhile is
/// simply picked up again. It also notices rotations made by other processes.
public struct KeyRewrapService: Service {
    public struct Configuration: Sendable {
        /// How often to look for a rotation done elsewhere.
        public var pollInterval: Duration
        /// Rows per batch (one transaction).
        public var batchSize: Int
        /// Pause between batches, to keep re-wrap from crowding out live traffic.
        public var pause: Duration

        public init(pollInterval: Duration = .seconds(5), batchSize: Int = 200, pause: Duration = .zero) {
            self.pollInterval = pollInterval
            self.batchSize = batchSize
            self.pause = pause
        }
    }

    let database: Database
    let keyring: Keyring
    let keyManager: KeyManager
    let credentials: CredentialRepository
    /// Flags and audits the rows it cannot read (the vault's one place for that).
    let vault: CredentialVault
    let configuration: Configuration
    let clock: any LatchkeyClock
    let logger: Logger

    /// `vault` flags and audits rows that cannot be read (with its webhook events when it has an outbox); without
    /// one, a vault over the same database is used.
    public init(
        database: Database,
        keyring: Keyring,
        keyManager: KeyManager,
        configuration: Configuration,
        clock: any LatchkeyClock,
        logger: Logger,
        vault: CredentialVault? = nil
    ) {
        self.database = database
        self.keyring = keyring
        self.keyManager = keyManager
        self.credentials = CredentialRepository(database: database)
        self.vault =
            vault
            ?? CredentialVault(
                database: database,
                keyring: keyring,
                keyManager: keyManager,
                audit: AuditLog(database: database, clock: clock),
                clock: clock,
                logger: logger
            )
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastPublished: Date?
            while !Task.isCancelled {
                do {
                    try await keyManager.refresh(keyring)
                    while try await runBatch() > 0 {
                        if configuration.pause > .zero { try await clock.sleep(for: configuration.pause) }
                        if Task.isCancelled { return }
                    }
                    if lastPublished.map({ clock.now.timeIntervalSince($0) >= 30 }) ?? true {
                        try await publishKeyVersionMetrics()
                        lastPublished = clock.now
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("key re-wrap failed; will retry", metadata: ["error": "\(error)"])
                }
                do { try await clock.sleep(for: configuration.pollInterval) } catch { return }
            }
        }
    }

    private func tenantID(of credentialID: String) async throws -> String {
        try await database.read { db in
            try await db.raw("SELECT tenant_id FROM credentials WHERE id = \(bind: credentialID)").first()?.decode(
                column: "tenant_id",
                as: String.self
            )
        } ?? ""
    }

    /// Gauges of the key versions in use: encrypted rows per data-key version, and the active version.
    public func publishKeyVersionMetrics() async throws {
        let counts = try await keyManager.repository.countsByVersion()
        for version in Set(keyring.versions).union(counts.keys) {
            Gauge(label: "latchkey_encrypted_rows", dimensions: [("key_version", String(version))]).record(counts[version] ?? 0)
        }
        Gauge(label: "latchkey_active_data_key_version").record(keyring.activeVersion)
    }

    /// Re-wraps one batch: credential rows first, then each other sealed column. Returns how many rows it worked on
    /// (0 when nothing is left to do).
    @discardableResult
    public func runBatch() async throws -> Int {
        let moved = try await runCredentialBatch()
        if moved > 0 { return moved }
        for column in SealedColumn.all {
            let worked = try await runBatch(column, target: keyring.activeVersion)
            if worked > 0 { return worked }
        }
        return 0
    }

    private func runCredentialBatch() async throws -> Int {
        let target = keyring.activeVersion
        let now = clock.now
        var progress = try await keyManager.repository.rewrapProgress()
        if progress == nil || progress!.targetVersion != target {
            let remaining = try await credentials.countBelowKeyVersion(target)
            if remaining == 0 { return 0 }
            progress = RewrapProgress(targetVersion: target, cursor: "", done: 0, total: remaining, startedAt: now, updatedAt: now, finishedAt: nil)
            logger.info("key re-wrap started", metadata: ["target_version": "\(target)", "rows": "\(remaining)"])
        }
        guard var progress else { return 0 }
        if progress.finishedAt != nil {
            // Finished before; rows written under an old version since (by a process that had not reloaded yet)?
            if try await credentials.countBelowKeyVersion(target) == 0 { return 0 }
            progress.cursor = ""
            progress.finishedAt = nil
        }
        let batch = try await credentials.batchBelowKeyVersion(target, after: progress.cursor, limit: configuration.batchSize)
        if batch.isEmpty {
            let remaining = try await credentials.countBelowKeyVersion(target)
            progress.cursor = ""
            // Rows written under an old version meanwhile, or skipped by a fenced write, are still to do.
            progress.total = progress.done + remaining
            if remaining == 0 {
                progress.finishedAt = now
                progress.updatedAt = now
                let finished = progress
                try await database.write { db in try await keyManager.repository.saveRewrapProgress(finished, on: db) }
                logger.info("key re-wrap finished", metadata: ["target_version": "\(target)", "rows": "\(progress.done)"])
                return 0
            }
            // Rows skipped by a fenced write: go round again from the start.
            let restarted = progress
            try await database.write { db in try await keyManager.repository.saveRewrapProgress(restarted, on: db) }
            return try await runCredentialBatch()
        }
        var sealed: [(StoredCredential, Data)] = []
        var unreadable = 0
        for row in batch {
            switch row {
            case .damaged(let damaged):
                unreadable += 1
                try await vault.flagDamaged(damaged, tenantID: try await tenantID(of: damaged.id), actor: .system)
            case .stored(let stored):
                do {
                    let plaintext = try keyring.open(stored.payload, context: stored.credential.payloadContext)
                    sealed.append((stored, try keyring.seal(plaintext, context: stored.credential.payloadContext, version: target)))
                } catch {
                    // The vault tries once more (a rotation elsewhere), then flags and audits the row.
                    do {
                        _ = try await vault.open(stored, actor: .system)
                        continue  // readable after a keyring reload: the next pass moves it
                    } catch let error as LatchkeyError where error.code == .decryptionFailed {
                        unreadable += 1
                    }
                }
            }
        }
        if unreadable > 0 {
            // Flagged rows are left out of later batches and counts; they stay where they are.
            progress.total = max(progress.done, progress.total - unreadable)
            logger.error("key re-wrap found rows it cannot read; they were flagged and left as they are", metadata: ["rows": "\(unreadable)"])
        }
        let moved = try await database.transaction { db -> Int in
            var moved = 0
            for (stored, payload) in sealed {
                if try await credentials.rewrapFenced(
                    id: stored.credential.id,
                    version: stored.credential.version,
                    fromKeyVersion: stored.credential.keyVersion,
                    payload: payload,
                    toKeyVersion: target,
                    on: db
                ) {
                    moved += 1
                }
            }
            progress.cursor = batch.last!.id
            progress.done += moved
            progress.updatedAt = clock.now
            try await keyManager.repository.saveRewrapProgress(progress, on: db)
            return moved
        }
        Counter(label: "latchkey_key_rewrap_rows_total").increment(by: moved)
        logger.debug("key re-wrap batch", metadata: ["done": "\(progress.done)", "total": "\(progress.total)"])
        return max(moved, 1)
    }
}
