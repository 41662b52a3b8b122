public import Foundation
public import LatchkeyCore
import SQLKit

/// Changing a credential's label, default flag, expiry or secret, with a fenced write.
extension CredentialVault {
    /// Changes to a credential; nil fields stay as they are.
    public struct Changes: Sendable {
        public var label: String??
        public var scopes: [String]?
        public var expiresAt: Date??
        public var status: CredentialStatus?
        public var providerAccount: String??
        public var isDefault: Bool?
        public var providerAccountID: String?? = nil
        public var connectionConfig: [String: String]? = nil
        public var issuedBy: String? = nil
        public var lastRefreshedAt: Date? = nil
        /// When given, the background refresh is rescheduled with it.
        public var refreshPolicy: RefreshPolicy? = nil
        /// Secret fields to replace; nil fields of it keep their stored value.
        public var secret: CredentialSecret?

        public init(
            label: String?? = nil,
            scopes: [String]? = nil,
            expiresAt: Date?? = nil,
            status: CredentialStatus? = nil,
            providerAccount: String?? = nil,
            isDefault: Bool? = nil,
            secret: CredentialSecret? = nil
        ) {
            self.label = label
            self.scopes = scopes
            self.expiresAt = expiresAt
            self.status = status
            self.providerAccount = providerAccount
            self.isDefault = isDefault
            self.secret = secret
        }
    }

    /// Applies `changes` with a fenced write, retrying on a concurrent writer.
    public func update(id: String, tenantID: String, changes: Changes, actor: AuditActor) async throws -> Credential {
        for _ in 0..<5 {
            let current = try await stored(id: id, tenantID: tenantID, actor: actor)
            var credential = current.credential
            var secret: CredentialSecret
            do {
                try requireNotFlaggedUnreadable(credential)
                secret = try await open(current, actor: actor)
            } catch let error as LatchkeyError where changes.secret != nil && (error.code == .decryptionFailed || error.code == .needsReauth) {
                // A new secret replaces an unreadable one: start from nothing (the open above flagged and audited it),
                // and the credential is usable again.
                guard credential.status == .needsReauth || error.code == .needsReauth else { continue }
                secret = CredentialSecret()
                credential.status = .active
                credential.statusReason = nil
            }
            if let label = changes.label { credential.label = label }
            if let scopes = changes.scopes { credential.scopes = scopes }
            if let expiresAt = changes.expiresAt { credential.expiresAt = expiresAt }
            if let status = changes.status {
                credential.status = status
                if status == .active { credential.statusReason = nil }
            }
            if let account = changes.providerAccount { credential.providerAccount = account }
            if let accountID = changes.providerAccountID { credential.providerAccountID = accountID }
            if let config = changes.connectionConfig { credential.connectionConfig = config }
            if let issuedBy = changes.issuedBy { credential.issuedBy = issuedBy }
            if let refreshed = changes.lastRefreshedAt { credential.lastRefreshedAt = refreshed }
            if let patch = changes.secret { secret.apply(patch) }
            credential.updatedAt = clock.now
            if changes.expiresAt != nil || changes.secret != nil || changes.status != nil || changes.refreshPolicy != nil {
                credential.refreshFailures = 0
                credential.refreshDueAt =
                    credential.status == .active
                    ? (changes.refreshPolicy ?? .standard).dueDate(
                        expiresAt: credential.expiresAt,
                        hasRefreshToken: secret.refreshToken != nil,
                        lastRefreshed: credential.lastRefreshedAt ?? credential.connectedAt,
                        spread: random.unit()
                    ) : nil
            }
            let payload = try seal(secret, for: &credential)
            let written = try await database.transaction { db -> Bool in
                let updated = try await withHealthWatch(connectionID: credential.connectionID, tenantID: tenantID, on: db) {
                    try await credentials.updateFenced(credential, payload: payload, on: db)
                }
                guard updated else { return false }
                if changes.isDefault == true {
                    let owner: SQLQueryString = credential.endUserID.map { "end_user_id = \(bind: $0)" } ?? "end_user_id IS NULL"
                    // Two statements: the unique index on defaults is checked row by row.
                    try await db.raw(
                        "UPDATE credentials SET is_default = 0 WHERE connection_id = \(bind: credential.connectionID) AND \(owner) AND id <> \(bind: id)"
                    ).run()
                    try await db.raw("UPDATE credentials SET is_default = 1 WHERE id = \(bind: id)").run()
                }
                var details = changes.secret.map(fingerprints(of:)) ?? [:]
                details["fields"] = Self.changedFields(changes).joined(separator: ",")
                try await audit.append(
                    AuditRecord(actor: actor, action: "credential.update", target: id, service: credential.integrationKey, details: details),
                    tenantID: tenantID,
                    on: db
                )
                return true
            }
            if written {
                Self.count("update", "success")
                credential.version += 1
                if let isDefault = changes.isDefault, isDefault { credential.isDefault = true }
                return credential
            }
        }
        throw LatchkeyError.conflict("The credential kept changing while it was being updated; try again.")
    }
}
