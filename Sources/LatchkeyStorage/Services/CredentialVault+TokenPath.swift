import Foundation
public import LatchkeyCore
import Metrics
import SQLKit

/// The reads of the token path (`POST /api/v1/credentials/token`), served from `CredentialCache` while what it keeps
/// is provably current (see its doc comment for the argument). They answer exactly what their uncached
/// counterparts (`get`, `load`) answer, with the same audit events.
extension CredentialVault {
    /// Like `get(id:tenantID:actor:)`, with the sealed row for `openForToken`, from the cache when it can: not-found
    /// (audited as `credential.access_denied`) for any id that is not the tenant's.
    public func rowForToken(id: String, tenantID: String, actor: AuditActor) async throws -> TokenRow {
        if let row = try await cachedRow(.id(tenantID: tenantID, id: id), actor: actor) { return TokenRow(stored: row.stored, cached: row.cached) }
        return TokenRow(stored: try await stored(id: id, tenantID: tenantID, actor: actor), cached: false)
    }

    /// A sealed row the token path resolved, and whether it came from the cache.
    public struct TokenRow: Sendable {
        public let stored: StoredCredential
        let cached: Bool
    }

    /// Opens a row from `rowForToken` as `loadForToken` opens one: a cached payload that does not open is
    /// dropped and the row read again (then returned as read), so only what the database holds is ever flagged.
    public func openForToken(_ row: TokenRow) async throws -> (stored: StoredCredential, secret: CredentialSecret) {
        let credential = row.stored.credential
        try requireNotFlaggedUnreadable(credential)
        guard row.cached else { return (row.stored, try await open(row.stored)) }
        if let secret = try? await decrypt(row.stored) { return (row.stored, secret) }
        tokenCache.remove(credentialID: credential.id)
        guard let loaded = try await load(id: credential.id, tenantID: credential.tenantID) else { throw LatchkeyError.notFound("credential") }
        return loaded
    }

    /// Like `load(id:tenantID:actor:)`, from the cache when it can. The payload is opened on every call; the
    /// plaintext is never kept. A cached payload that does not open is dropped and the row read again, so only
    /// what the database holds is ever flagged as unreadable.
    public func loadForToken(
        id: String,
        tenantID: String,
        actor: AuditActor = .system
    ) async throws -> (
        stored: StoredCredential, secret: CredentialSecret
    )? {
        guard let row = try await cachedRow(.id(tenantID: tenantID, id: id), actor: actor) else { return nil }
        try requireNotFlaggedUnreadable(row.stored.credential)
        guard row.cached else { return (row.stored, try await open(row.stored, actor: actor)) }
        if let secret = try? await decrypt(row.stored) { return (row.stored, secret) }
        tokenCache.remove(credentialID: id)
        return try await load(id: id, tenantID: tenantID, actor: actor)
    }

    /// The row of credential `id` (not-found, audited, for any id that is not the tenant's), and its secret when the
    /// row came from the cache and opened. A cached payload that does not open is dropped and the row read again
    /// (nil secret: the caller opens it, and flags it when it really is unreadable).
    func sealedForUse(id: String, tenantID: String, actor: AuditActor) async throws -> (StoredCredential, CredentialSecret?) {
        if let row = try await cachedRow(.id(tenantID: tenantID, id: id), actor: actor) {
            guard row.cached else { return (row.stored, nil) }
            if let secret = try? await decrypt(row.stored) { return (row.stored, secret) }
            tokenCache.remove(credentialID: id)
        }
        return (try await stored(id: id, tenantID: tenantID, actor: actor), nil)
    }

    /// The row `key` resolves to and whether it came from the cache; nil when there is none.
    ///
    /// SQLite (one process writes the file): the entry is used while `Database.writeGeneration` is unchanged since
    /// it was read. PostgreSQL (instances share the database): the id and version `key` resolves to now are read
    /// first, and the entry of that id is used only when its version is the same (and no write of this process
    /// ended since it was read).
    func cachedRow(_ key: CredentialCache.Key, actor: AuditActor) async throws -> (stored: StoredCredential, cached: Bool)? {
        // Read before anything else: a write that ends after this makes what is read below unusable later.
        let generation = database.writeGeneration
        let now = clock.now
        do {
            switch database.kind {
            case .sqlite:
                if let kept = tokenCache.row(for: key, generation: generation, now: now) { return (kept, true) }
                guard let stored = try await readRow(key, actor: actor) else { return nil }
                tokenCache.store(stored, for: key, generation: generation, now: now)
                tokenCache.store(stored, for: .id(tenantID: stored.credential.tenantID, id: stored.credential.id), generation: generation, now: now)
                return (stored, false)
            case .postgres:
                guard let current = try await currentVersion(key) else { return nil }
                let byID = CredentialCache.Key.id(tenantID: key.tenantID, id: current.id)
                if let kept = tokenCache.row(for: byID, generation: generation, now: now), kept.credential.version == current.version {
                    // Found current now: kept (under the resolution too) for degraded mode from this moment.
                    tokenCache.store(kept, for: byID, generation: generation, now: now)
                    if case .resolution = key { tokenCache.store(kept, for: key, generation: generation, now: now) }
                    return (kept, true)
                }
                guard let stored = try await findReadable(id: current.id, tenantID: key.tenantID, actor: actor) else { return nil }
                tokenCache.store(stored, for: byID, generation: generation, now: now)
                if case .resolution = key { tokenCache.store(stored, for: key, generation: generation, now: now) }
                return (stored, false)
            }
        } catch let error as DatabaseUnreachable {
            // Degraded mode: what this process resolved lately, while no write of it has ended since.
            let lifetime = database.availability.degradedMode.lifetime
            guard lifetime > 0, let kept = tokenCache.degradedRow(for: key, generation: generation, now: now, maximumAge: lifetime) else {
                throw error
            }
            Counter(label: "latchkey_degraded_handouts_total").increment()
            return (kept, true)
        }
    }

    /// The whole row `key` resolves to, read now.
    private func readRow(_ key: CredentialCache.Key, actor: AuditActor) async throws -> StoredCredential? {
        switch key {
        case .id(let tenantID, let id):
            return try await findReadable(id: id, tenantID: tenantID, actor: actor)
        case .resolution(let resolution):
            return try await database.readPromptly { db in
                try await Self.resolvedRow(columns: CredentialRepository.selectColumns, resolution, on: db).map(CredentialRepository.stored(from:))
            }
        }
    }

    /// The id and version of the row `key` resolves to, read now (PostgreSQL).
    private func currentVersion(_ key: CredentialCache.Key) async throws -> (id: String, version: Int)? {
        let row = try await database.readPromptly { db -> (any SQLRow)? in
            switch key {
            case .id(let tenantID, let id):
                return try await db.raw("SELECT c.id, c.version FROM credentials c WHERE c.id = \(bind: id) AND c.tenant_id = \(bind: tenantID)")
                    .first()
            case .resolution(let resolution):
                return try await Self.resolvedRow(
                    columns: """
                        SELECT c.id, c.version FROM credentials c JOIN connections n ON n.id = c.connection_id
                        JOIN integrations i ON i.id = n.integration_id LEFT JOIN end_users e ON e.id = c.end_user_id
                        """,
                    resolution,
                    on: db
                )
            }
        }
        guard let row else { return nil }
        return (try row.string("id"), try row.int("version"))
    }
}

extension CredentialCache.Key {
    var tenantID: String {
        switch self {
        case .id(let tenantID, _): tenantID
        case .resolution(let resolution): resolution.tenantID
        }
    }
}

extension CredentialVault {
    /// Records that a credential's secret was handed out for use (an access token, an API key or a password;
    /// group-committed like reveals, as `credential.token`, never as a reveal) and marks the credential used.
    /// `details` says for whom (app, end user); the secret is recorded only as its fingerprint.
    public func recordTokenAccess(
        _ credential: Credential,
        secret: CredentialSecret,
        actor: AuditActor,
        details: [String: String] = [:]
    ) async throws {
        var recorded = details
        recorded["type"] = credential.type.rawValue
        // One secret per type is fingerprinted, and the fingerprint is kept per row version (`FingerprintMemo`).
        func fingerprint(_ value: String) -> String { tokenFingerprints.fingerprint(of: credential) { keyring.fingerprint(value) } }
        if let value = secret.accessToken, credential.type == .oauth2 { recorded["access_token_fp"] = fingerprint(value) }
        if let value = secret.apiKey, credential.type == .apiKey { recorded["api_key_fp"] = fingerprint(value) }
        if let value = secret.password, credential.type == .basic { recorded["password_fp"] = fingerprint(value) }
        try await auditWriter.append(
            AuditRecord(
                actor: actor,
                action: "credential.token",
                target: credential.id,
                service: credential.integrationKey,
                details: recorded,
                person: credential.endUserID
            ),
            tenantID: credential.tenantID
        )
    }
}

extension CredentialVault {
    /// Audit events waiting for the database to answer again (degraded mode).
    public var heldAuditEvents: Int { auditWriter.heldCount }

    /// Writes the held audit events now, and returns once none is held or the database does not answer. (An outage's
    /// end writes them by itself; this is for shutdown and tests.)
    public func flushHeldAuditEvents() async {
        await auditWriter.flushAllHeld()
    }
}
