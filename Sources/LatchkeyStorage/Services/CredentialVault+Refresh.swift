public import Foundation
public import LatchkeyCore
import Metrics
import SQLKit

/// The storage side of token refresh (DESIGN §4): a lease per credential committed before the provider is called,
/// a fenced write of the result, and the queries the background refresher claims work with.
extension CredentialVault {
    /// The credential with its secret and lease, without an audit event (the caller audits what it does with it).
    /// A credential that cannot be read is flagged and audited (`decryption_failed`); once flagged, it answers
    /// `needs_reauth` with "Latchkey cannot read the stored … credential. Please reconnect."
    public func load(id: String, tenantID: String, actor: AuditActor = .system) async throws -> (stored: StoredCredential, secret: CredentialSecret)?
    {
        guard let stored = try await findReadable(id: id, tenantID: tenantID, actor: actor) else { return nil }
        try requireNotFlaggedUnreadable(stored.credential)
        return (stored, try await open(stored, actor: actor))
    }

    /// Claims the right to refresh `id` until `until`; false while another instance holds an unexpired lease.
    public func acquireLease(id: String, tenantID: String, owner: String, until: Date) async throws -> Bool {
        let now = clock.now
        return try await database.write { db in
            try await db.raw(
                """
                UPDATE credentials SET lease_owner = \(bind: owner), lease_until = \(bind: until.ms)
                WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID)
                  AND (lease_until IS NULL OR lease_until < \(bind: now.ms) OR lease_owner = \(bind: owner))
                RETURNING id
                """
            ).first() != nil
        }
    }

    /// Extends a lease this owner holds (before a retry); false when it was lost.
    public func renewLease(id: String, owner: String, until: Date) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                "UPDATE credentials SET lease_until = \(bind: until.ms) WHERE id = \(bind: id) AND lease_owner = \(bind: owner) RETURNING id"
            ).first() != nil
        }
    }

    public func releaseLease(id: String, owner: String) async throws {
        try await database.write { db in
            try await db.raw("UPDATE credentials SET lease_owner = NULL, lease_until = NULL WHERE id = \(bind: id) AND lease_owner = \(bind: owner)")
                .run()
        }
    }

    /// What a successful refresh changes.
    public struct RefreshedTokens: Sendable {
        public var accessToken: String
        /// nil keeps the stored refresh token (the provider did not rotate it).
        public var refreshToken: String?
        public var tokenType: String?
        public var idToken: String?
        public var expiresAt: Date?
        public var scopes: [String]?

        public init(accessToken: String, refreshToken: String?, tokenType: String?, idToken: String?, expiresAt: Date?, scopes: [String]?) {
            self.accessToken = accessToken
            self.refreshToken = refreshToken
            self.tokenType = tokenType
            self.idToken = idToken
            self.expiresAt = expiresAt
            self.scopes = scopes
        }
    }

    /// Stores refreshed tokens and releases the lease, all in one fenced write. When another writer changed the row
    /// meanwhile (a key re-wrap, a label change) while this owner still holds the lease, the write is applied again
    /// on the new version: rotated refresh tokens are never dropped. Returns nil when the lease was lost or the
    /// credential is gone.
    public func completeRefresh(
        id: String,
        tenantID: String,
        owner: String,
        tokens: RefreshedTokens,
        policy: RefreshPolicy,
        actor: AuditActor,
        details: [String: String] = [:]
    ) async throws -> (Credential, CredentialSecret)? {
        for _ in 0..<10 {
            guard let current = try await credentials.find(id: id, tenantID: tenantID), current.leaseOwner == owner else { return nil }
            var credential = current.credential
            var secret = try await open(current)
            secret.accessToken = tokens.accessToken
            if let refresh = tokens.refreshToken { secret.refreshToken = refresh }
            if let type = tokens.tokenType { secret.tokenType = type }
            if let idToken = tokens.idToken { secret.idToken = idToken }
            let now = clock.now
            credential.expiresAt = tokens.expiresAt
            if let scopes = tokens.scopes { credential.scopes = scopes }
            credential.status = .active
            credential.statusReason = nil
            credential.lastRefreshedAt = now
            credential.updatedAt = now
            credential.refreshFailures = 0
            credential.refreshDueAt = policy.dueDate(
                expiresAt: tokens.expiresAt,
                hasRefreshToken: secret.refreshToken != nil,
                lastRefreshed: now,
                spread: random.unit()
            )
            let payload = try seal(secret, for: &credential)
            let written = try await database.transaction { db -> Bool in
                guard try await credentials.updateFenced(credential, payload: payload, on: db) else { return false }
                try await db.raw("UPDATE credentials SET lease_owner = NULL, lease_until = NULL WHERE id = \(bind: id)").run()
                var audited = fingerprints(of: RefreshFingerprint.only(secret, rotated: tokens.refreshToken != nil))
                audited.merge(details) { a, _ in a }
                try await audit.append(
                    AuditRecord(actor: actor, action: "credential.refresh", target: id, service: credential.integrationKey, details: audited),
                    tenantID: tenantID,
                    on: db
                )
                return true
            }
            if written {
                credential.version += 1
                return (credential, secret)
            }
        }
        throw LatchkeyError.conflict("The credential kept changing while its refresh was being saved; try again.")
    }

    /// Records a failed refresh: the status (when the failure is permanent), the reason, when to try again, and the
    /// audit event; releases the lease. The stored tokens are left as they are. Fenced on the lease: when `owner` no
    /// longer holds it (it expired and another instance took it, or the credential was disconnected) nothing is
    /// written, audited or sent, and nil is returned — events follow the rows actually changed.
    public func failRefresh(
        id: String,
        tenantID: String,
        owner: String,
        status: CredentialStatus?,
        reason: String,
        retryAt: Date?,
        actor: AuditActor,
        details: [String: String] = [:]
    ) async throws -> Credential? {
        try await database.transaction { db -> Credential? in
            guard let current = try await credentials.find(id: id, tenantID: tenantID, on: db), current.leaseOwner == owner else { return nil }
            var statusClause: SQLQueryString = ""
            if let status {
                statusClause = ", status = \(bind: status.rawValue), status_reason = \(bind: reason)"
            }
            let now = clock.now
            let changed = try await withHealthWatch(connectionID: current.credential.connectionID, tenantID: tenantID, on: db) {
                try await db.raw(
                    """
                    UPDATE credentials SET refresh_failures = refresh_failures + 1, refresh_due_at = \(bind: retryAt?.ms),
                      lease_owner = NULL, lease_until = NULL, updated_at = \(bind: now.ms), version = version + 1\(statusClause)
                    WHERE id = \(bind: id) AND tenant_id = \(bind: tenantID) AND lease_owner = \(bind: owner)
                    RETURNING id
                    """
                ).first() != nil
            }
            guard changed else { return nil }
            var audited = details
            audited["reason"] = reason
            if let status { audited["status"] = status.rawValue }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.refresh",
                    target: id,
                    service: current.credential.integrationKey,
                    result: .failure,
                    details: audited
                ),
                tenantID: tenantID,
                on: db
            )
            var credential = current.credential
            if let status {
                credential.status = status
                credential.statusReason = reason
                if status == .needsReauth { try await emit(.credentialNeedsReauth, credential, extra: ["reason": reason], on: db) }
            }
            credential.refreshFailures += 1
            credential.refreshDueAt = retryAt
            credential.version += 1
            credential.updatedAt = now
            return credential
        }
    }

    /// Leases up to `limit` credentials whose refresh is due, for this owner; returns their ids and tenants. On
    /// PostgreSQL rows locked by another claimer are skipped; on SQLite the single writer serialises claimers.
    public func claimDue(owner: String, leaseUntil: Date, limit: Int) async throws -> [(id: String, tenantID: String)] {
        let now = clock.now
        let skipLocked = database.kind == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await database.transaction { db in
            let rows = try await db.raw(
                """
                SELECT id, tenant_id FROM credentials
                WHERE status = 'active' AND refresh_due_at IS NOT NULL AND refresh_due_at <= \(bind: now.ms)
                  AND (lease_until IS NULL OR lease_until < \(bind: now.ms))
                ORDER BY refresh_due_at LIMIT \(bind: limit)\(unsafeRaw: skipLocked)
                """
            ).all()
            var claimed: [(id: String, tenantID: String)] = []
            for row in rows {
                let id = try row.string("id")
                try await db.raw(
                    "UPDATE credentials SET lease_owner = \(bind: owner), lease_until = \(bind: leaseUntil.ms) WHERE id = \(bind: id)"
                ).run()
                claimed.append((id, try row.string("tenant_id")))
            }
            return claimed
        }
    }

    /// How many credentials are due now (for metrics and tests).
    public func dueCount() async throws -> Int {
        let now = clock.now
        return try await database.read { db in
            try await db.raw(
                "SELECT COUNT(*) AS n FROM credentials WHERE status = 'active' AND refresh_due_at IS NOT NULL AND refresh_due_at <= \(bind: now.ms)"
            ).first()?.int("n") ?? 0
        }
    }

    /// A credential whose access token has expired and that nothing can refresh, as it was when selected.
    public struct ExpiryCandidate: Sendable, Equatable {
        public var id: String
        public var tenantID: String
        public var connectionID: String
        public var version: Int
    }

    /// Active credentials whose access token has expired and that nothing can refresh (no refresh scheduled, no
    /// lease held).
    public func expiryCandidates(limit: Int = 500) async throws -> [ExpiryCandidate] {
        let now = clock.now
        return try await database.read { db in
            try await db.raw(
                """
                SELECT c.id AS id, c.tenant_id AS tenant_id, c.connection_id AS connection_id, c.version AS version FROM credentials c
                WHERE c.status = 'active' AND c.expires_at IS NOT NULL AND c.expires_at < \(bind: now.ms) AND c.refresh_due_at IS NULL
                  AND c.lease_owner IS NULL
                LIMIT \(bind: limit)
                """
            ).all().map {
                ExpiryCandidate(
                    id: try $0.string("id"),
                    tenantID: try $0.string("tenant_id"),
                    connectionID: try $0.string("connection_id"),
                    version: try $0.int("version")
                )
            }
        }
    }

    /// Marks a candidate `expired`, fenced like every writer of a credential row: when the row changed since it was
    /// selected (refreshed, reconnected, leased) it is left alone and nothing is audited. Returns whether it changed.
    @discardableResult
    public func expire(_ candidate: ExpiryCandidate) async throws -> Bool {
        let now = clock.now
        return try await database.transaction { db in
            let changed = try await withHealthWatch(connectionID: candidate.connectionID, tenantID: candidate.tenantID, on: db) {
                try await db.raw(
                    """
                    UPDATE credentials SET status = 'expired', status_reason = 'access_token_expired', version = version + 1,
                      updated_at = \(bind: now.ms)
                    WHERE id = \(bind: candidate.id) AND version = \(bind: candidate.version) AND status = 'active' AND lease_owner IS NULL
                    RETURNING id
                    """
                ).first() != nil
            }
            guard changed else { return false }
            try await audit.append(
                AuditRecord(actor: .system, action: "credential.expire", target: candidate.id, details: ["reason": "access_token_expired"]),
                tenantID: candidate.tenantID,
                on: db
            )
            return true
        }
    }

    /// Marks active credentials whose access token has expired and that nothing can refresh as `expired`. Audited.
    @discardableResult
    public func markExpired(limit: Int = 500) async throws -> Int {
        var marked = 0
        for candidate in try await expiryCandidates(limit: limit) where try await expire(candidate) { marked += 1 }
        return marked
    }

    /// Deletes credentials that expired more than `retention` ago. Audited.
    @discardableResult
    public func purgeExpired(retention: TimeInterval = 30 * 24 * 3600, limit: Int = 500) async throws -> [Credential] {
        let cutoff = clock.now.addingTimeInterval(-retention)
        let candidates = try await database.read { db in
            try await db.raw(
                """
                \(unsafeRaw: CredentialRepository.selectColumns) WHERE c.status = 'expired' AND c.expires_at IS NOT NULL
                  AND c.expires_at < \(bind: cutoff.ms) LIMIT \(bind: limit)
                """
            ).all().map { try CredentialRepository.stored(from: $0).credential }
        }
        var deleted: [Credential] = []
        for credential in candidates {
            do {
                try await delete(id: credential.id, tenantID: credential.tenantID, actor: .system, providerRevocation: .expired)
                deleted.append(credential)
            } catch let error as LatchkeyError where error.code == .notFound {
                continue
            }
        }
        return deleted
    }
}

/// Fingerprints for a refresh event: the new access token, and the refresh token only when it was rotated.
enum RefreshFingerprint {
    static func only(_ secret: CredentialSecret, rotated: Bool) -> CredentialSecret {
        CredentialSecret(accessToken: secret.accessToken, refreshToken: rotated ? secret.refreshToken : nil)
    }
}
