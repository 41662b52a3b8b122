import Foundation
public import LatchkeyCore
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

    /// The console app's credential of an integration for `owner` (the default one first, then the oldest; for an end
    /// user, falling back to the shared credential: DESIGN §2, rule 6), with the sealed row for `openForToken`: one
    /// resolution, and on PostgreSQL one version read, for the whole token call.
    public func consoleRowForToken(tenantID: String, integrationKey: String, owner: Owner) async throws -> TokenRow? {
        let externalUserID: String? =
            switch owner {
            case .endUser(let externalID): externalID
            case .shared: nil
            }
        let key = CredentialCache.Key.console(tenantID: tenantID, integrationKey: integrationKey, externalUserID: externalUserID)
        return try await cachedRow(key, actor: .system).map { TokenRow(stored: $0.stored, cached: $0.cached) }
    }

    /// Opens a row from `consoleRowForToken` as `loadForToken` opens one: a cached payload that does not open is
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
                return (kept, true)
            }
            guard let stored = try await findReadable(id: current.id, tenantID: key.tenantID, actor: actor) else { return nil }
            tokenCache.store(stored, for: byID, generation: generation, now: now)
            return (stored, false)
        }
    }

    /// The whole row `key` resolves to, read now.
    private func readRow(_ key: CredentialCache.Key, actor: AuditActor) async throws -> StoredCredential? {
        switch key {
        case .id(let tenantID, let id):
            return try await findReadable(id: id, tenantID: tenantID, actor: actor)
        case .console(let tenantID, let integrationKey, let externalUserID):
            return try await database.read { db in
                try await Self.consoleRow(
                    columns: CredentialRepository.selectColumns,
                    tenantID: tenantID,
                    integrationKey: integrationKey,
                    externalUserID: externalUserID,
                    on: db
                ).map(CredentialRepository.stored(from:))
            }
        }
    }

    /// The id and version of the row `key` resolves to, read now (PostgreSQL).
    private func currentVersion(_ key: CredentialCache.Key) async throws -> (id: String, version: Int)? {
        let row = try await database.read { db -> (any SQLRow)? in
            switch key {
            case .id(let tenantID, let id):
                return try await db.raw("SELECT c.id, c.version FROM credentials c WHERE c.id = \(bind: id) AND c.tenant_id = \(bind: tenantID)")
                    .first()
            case .console(let tenantID, let integrationKey, let externalUserID):
                return try await Self.consoleRow(
                    columns: """
                        SELECT c.id, c.version FROM credentials c JOIN connections n ON n.id = c.connection_id
                        JOIN integrations i ON i.id = n.integration_id LEFT JOIN end_users e ON e.id = c.end_user_id
                        """,
                    tenantID: tenantID,
                    integrationKey: integrationKey,
                    externalUserID: externalUserID,
                    on: db
                )
            }
        }
        guard let row else { return nil }
        return (try row.string("id"), try row.int("version"))
    }

    /// The console app's credential of an integration for an end user (falling back to the shared one) or the
    /// shared one: the default first, then the oldest (DESIGN §2, rule 6). `columns` selects from `credentials c`
    /// joined with `connections n`, `integrations i` and `end_users e`.
    private static func consoleRow(
        columns: String,
        tenantID: String,
        integrationKey: String,
        externalUserID: String?,
        on db: any SQLDatabase
    ) async throws -> (any SQLRow)? {
        let base = "\(columns) JOIN apps a ON a.id = n.app_id WHERE c.tenant_id = "
        if let externalUserID,
            let row = try await db.raw(
                """
                \(unsafeRaw: base)\(bind: tenantID) AND a.kind = 'console' AND i.key = \(bind: integrationKey) AND e.external_id = \(bind: externalUserID)
                ORDER BY c.is_default DESC, c.created_at, c.id LIMIT 1
                """
            ).first()
        {
            return row
        }
        return try await db.raw(
            """
            \(unsafeRaw: base)\(bind: tenantID) AND a.kind = 'console' AND i.key = \(bind: integrationKey) AND c.end_user_id IS NULL
            ORDER BY c.is_default DESC, c.created_at, c.id LIMIT 1
            """
        ).first()
    }
}

extension CredentialCache.Key {
    var tenantID: String {
        switch self {
        case .id(let tenantID, _), .console(let tenantID, _, _): tenantID
        }
    }
}

extension CredentialVault {
    /// Records that an access token was handed out (group-committed like reveals) and marks the credential used.
    public func recordTokenAccess(_ credential: Credential, secret: CredentialSecret, actor: AuditActor) async throws {
        try await auditWriter.append(
            AuditRecord(
                actor: actor,
                action: "credential.token",
                target: credential.id,
                service: credential.integrationKey,
                details: secret.accessToken.map { token in
                    ["access_token_fp": tokenFingerprints.fingerprint(of: credential) { keyring.fingerprint(token) }]
                } ?? [:]
            ),
            tenantID: credential.tenantID,
            touching: credential.id
        )
    }

    /// Whose credential a lookup wants: an end user's, or the integration's shared credential.
    public enum Owner: Sendable, Equatable {
        case endUser(externalID: String)
        case shared
    }
}
