import Foundation
public import LatchkeyCore
import Logging
import Metrics
import SQLKit
import Tracing

extension CredentialVault {
    /// Why a credential was flagged because Latchkey cannot read it.
    enum UnreadableReason {
        /// Its encrypted payload does not open (altered, or its key is missing).
        static let decryptionFailed = "decryption_failed"
        /// A column of its row is damaged (wrong type, JSON that does not parse).
        static let damagedRow = "stored_data_unreadable"
    }

    /// The credential `id` of `tenantID`. Any id that is not the tenant's (another tenant's or none at all) answers
    /// not-found and records the same `credential.access_denied` event, so the audit log is no oracle for ids of
    /// other tenants. A damaged row is flagged and audited, and answers `decryption_failed`.
    func stored(id: String, tenantID: String, actor: AuditActor) async throws -> StoredCredential {
        if let stored = try await findReadable(id: id, tenantID: tenantID, actor: actor) { return stored }
        try await audit.append(
            AuditRecord(actor: actor, action: "credential.access_denied", target: id, result: .denied, details: ["reason": "not_found_in_tenant"]),
            tenantID: tenantID
        )
        throw LatchkeyError.notFound("credential")
    }

    /// The Connection `id` of `tenantID`. Any other id answers not-found and records `connection.access_denied`
    /// (the same event whether the id exists in another tenant or nowhere).
    public func connection(id: String, tenantID: String, actor: AuditActor) async throws -> Connection {
        if let connection = try await directory.connection(id: id, tenantID: tenantID) { return connection }
        try await audit.append(
            AuditRecord(actor: actor, action: "connection.access_denied", target: id, result: .denied, details: ["reason": "not_found_in_tenant"]),
            tenantID: tenantID
        )
        throw LatchkeyError.notFound("connection")
    }

    /// The row, or nil; a row that cannot be read is flagged, audited (once) and answered with `decryption_failed`.
    func findReadable(id: String, tenantID: String, actor: AuditActor) async throws -> StoredCredential? {
        do {
            return try await credentials.find(id: id, tenantID: tenantID)
        } catch let error as StorageError {
            throw try await damaged(error, tenantID: tenantID, actor: actor)
        }
    }

    /// Flags and audits (once) the credential row `error` names, and returns the error to answer with.
    public func damaged(_ error: StorageError, tenantID: String, actor: AuditActor) async throws -> LatchkeyError {
        try await flagDamaged(
            UnreadableCredential(id: error.rowID, integrationKey: nil, connectionID: nil, statusReason: nil, error: error),
            tenantID: tenantID,
            actor: actor
        )
        return LatchkeyError.damagedCredential(id: error.rowID, column: error.column)
    }

    /// Decrypts a stored payload; an unknown key version triggers one keyring reload (a rotation elsewhere). This is
    /// the one place payloads are opened: when it fails, the credential is flagged `needs_reauth` (reason
    /// `decryption_failed`, with the webhook and health events), the failure is audited as
    /// `credential.decryption_failed` (key version and field, nothing secret), and `decryption_failed` is thrown.
    public func open(_ stored: StoredCredential, actor: AuditActor = .system) async throws -> CredentialSecret {
        do {
            return try await decrypt(stored)
        } catch let error where error is KeyError || error is CiphertextError || error is DecodingError {
            // Only a payload that does not open is flagged; a database error while reloading the keyring is not.
            try await flagUndecryptable(stored, error: error, actor: actor)
            throw LatchkeyError.decryptionFailed
        }
    }

    /// Traced as the span `vault.open`, with the credential's id, integration and key version: nothing secret.
    func decrypt(_ stored: StoredCredential) async throws -> CredentialSecret {
        try await withSpan("vault.open") { span in
            span.attributes["latchkey.credential_id"] = stored.credential.id
            span.attributes["latchkey.integration"] = stored.credential.integrationKey
            span.attributes["latchkey.key_version"] = stored.credential.keyVersion
            let plaintext: Data
            do {
                plaintext = try keyring.open(stored.payload, context: stored.credential.payloadContext)
            } catch is KeyError {
                try await keyManager.refresh(keyring)
                plaintext = try keyring.open(stored.payload, context: stored.credential.payloadContext)
            }
            return try CredentialSecret.decode(plaintext)
        }
    }

    /// Throws the "reconnect" error when an earlier read already found the credential unreadable.
    func requireNotFlaggedUnreadable(_ credential: Credential) throws {
        guard credential.status == .needsReauth,
            credential.statusReason == UnreadableReason.decryptionFailed || credential.statusReason == UnreadableReason.damagedRow
        else { return }
        throw LatchkeyError.unreadableCredential(service: credential.integrationKey)
    }

    private func flagUndecryptable(_ stored: StoredCredential, error: any Error, actor: AuditActor) async throws {
        let credential = stored.credential
        let keyVersion = (try? Keyring.keyVersion(of: stored.payload)) ?? credential.keyVersion
        let reason = Self.reason(error)
        Self.count("open", "failure")
        logger.error(
            "credential cannot be decrypted; flagged for reconnection",
            metadata: ["credential_id": "\(credential.id)", "key_version": "\(keyVersion)", "reason": "\(reason)"]
        )
        let now = clock.now
        try await database.transaction { db in
            let alreadyFlagged = credential.status == .needsReauth && credential.statusReason == UnreadableReason.decryptionFailed
            var flagged = false
            if !alreadyFlagged {
                flagged = try await withHealthWatch(connectionID: credential.connectionID, tenantID: credential.tenantID, on: db) {
                    try await db.raw(
                        """
                        UPDATE credentials SET status = \(bind: CredentialStatus.needsReauth.rawValue), status_reason = \(bind: UnreadableReason.decryptionFailed),
                          refresh_due_at = NULL, lease_owner = NULL, lease_until = NULL, version = version + 1, updated_at = \(bind: now.ms)
                        WHERE id = \(bind: credential.id) AND tenant_id = \(bind: credential.tenantID) AND version = \(bind: credential.version)
                        RETURNING id
                        """
                    ).first() != nil
                }
            }
            if flagged {
                var marked = credential
                marked.status = .needsReauth
                marked.statusReason = UnreadableReason.decryptionFailed
                try await emit(.credentialNeedsReauth, marked, extra: ["reason": UnreadableReason.decryptionFailed], on: db)
            }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.decryption_failed",
                    target: credential.id,
                    service: credential.integrationKey,
                    result: .failure,
                    details: ["key_version": "\(keyVersion)", "field": "payload", "reason": reason, "flagged": flagged ? "true" : "false"]
                ),
                tenantID: credential.tenantID,
                on: db
            )
        }
    }

    /// Flags a credential row that cannot be read (`needs_reauth`, reason `stored_data_unreadable`) and audits it,
    /// once per row: a row already flagged is only logged. Nothing is written to the damaged column.
    func flagDamaged(_ row: UnreadableCredential, tenantID: String, actor: AuditActor) async throws {
        logger.error(
            "credential row cannot be read",
            metadata: ["credential_id": "\(row.id)", "table": "\(row.error.table)", "column": "\(row.error.column)"]
        )
        guard row.statusReason != UnreadableReason.damagedRow else { return }
        let now = clock.now
        try await database.transaction { db in
            let connectionID = try await db.raw("SELECT connection_id FROM credentials WHERE id = \(bind: row.id) AND tenant_id = \(bind: tenantID)")
                .first().flatMap { try? $0.string("connection_id") }
            let flag = { () async throws -> Bool in
                try await db.raw(
                    """
                    UPDATE credentials SET status = \(bind: CredentialStatus.needsReauth.rawValue), status_reason = \(bind: UnreadableReason.damagedRow),
                      refresh_due_at = NULL, lease_owner = NULL, lease_until = NULL, version = version + 1, updated_at = \(bind: now.ms)
                    WHERE id = \(bind: row.id) AND tenant_id = \(bind: tenantID)
                      AND (status_reason IS NULL OR status_reason <> \(bind: UnreadableReason.damagedRow))
                    RETURNING id
                    """
                ).first() != nil
            }
            let flagged =
                if let connectionID {
                    try await withHealthWatch(connectionID: connectionID, tenantID: tenantID, on: db, flag)
                } else {
                    try await flag()
                }
            guard flagged else { return }
            if let webhooks {
                var data: [String: WebhookValue] = [
                    "credentialId": .string(row.id), "status": .string(CredentialStatus.needsReauth.rawValue),
                    "reason": .string(UnreadableReason.damagedRow),
                ]
                if let connectionID { data["connectionId"] = .string(connectionID) }
                if let key = row.integrationKey { data["integration"] = .string(key) }
                try await webhooks.enqueue(.credentialNeedsReauth, tenantID: tenantID, data: data, on: db)
            }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.unreadable",
                    target: row.id,
                    service: row.integrationKey,
                    result: .failure,
                    details: ["table": row.error.table, "column": row.error.column, "reason": UnreadableReason.damagedRow]
                ),
                tenantID: tenantID,
                on: db
            )
        }
    }

    /// Deletes a credential row that cannot be read (nothing is revoked at the provider: its tokens cannot be read).
    /// Audited, with the webhook and health events.
    public func deleteUnreadable(id: String, tenantID: String, actor: AuditActor) async throws {
        let deleted = try await database.transaction { db -> Bool in
            guard
                let row = try await db.raw(
                    """
                    SELECT c.connection_id, i.key AS integration_key FROM credentials c JOIN connections n ON n.id = c.connection_id
                    JOIN integrations i ON i.id = n.integration_id WHERE c.id = \(bind: id) AND c.tenant_id = \(bind: tenantID)
                    """
                ).first()
            else { return false }
            let connectionID = try row.string("connection_id")
            let integrationKey = try row.string("integration_key")
            let removed = try await withHealthWatch(connectionID: connectionID, tenantID: tenantID, on: db) {
                try await credentials.delete(id: id, tenantID: tenantID, on: db)
            }
            guard removed else { return false }
            if let webhooks {
                let data: [String: WebhookValue] = [
                    "credentialId": .string(id), "integration": .string(integrationKey), "connectionId": .string(connectionID),
                    "providerRevocation": .string(ProviderRevocation.notAttempted.rawValue),
                ]
                try await webhooks.enqueue(.credentialDeleted, tenantID: tenantID, data: data, on: db)
            }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "credential.delete",
                    target: id,
                    service: integrationKey,
                    details: ["provider_revocation": "not_attempted", "reason": "unreadable"]
                ),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        guard deleted else { throw LatchkeyError.notFound("credential") }
        Self.count("delete", "success")
    }

    /// Appends an audit event about a credential in its own transaction (for callers that record their side of an
    /// access the vault refused).
    public func audit(_ record: AuditRecord, tenantID: String) async throws {
        try await audit.append(record, tenantID: tenantID)
    }

    func seal(_ secret: CredentialSecret, for credential: inout Credential) throws -> Data {
        let plaintext = try JSONEncoder().encode(secret)
        let payload = try keyring.seal(plaintext, context: credential.payloadContext)
        credential.keyVersion = try Keyring.keyVersion(of: payload)
        return payload
    }

    func fingerprints(of secret: CredentialSecret) -> [String: String] {
        var out: [String: String] = [:]
        if let value = secret.accessToken { out["access_token_fp"] = keyring.fingerprint(value) }
        if let value = secret.refreshToken { out["refresh_token_fp"] = keyring.fingerprint(value) }
        if let value = secret.apiKey { out["api_key_fp"] = keyring.fingerprint(value) }
        if let value = secret.password { out["password_fp"] = keyring.fingerprint(value) }
        return out
    }

    static func changedFields(_ changes: Changes) -> [String] {
        var fields: [String] = []
        if changes.label != nil { fields.append("label") }
        if changes.scopes != nil { fields.append("scopes") }
        if changes.expiresAt != nil { fields.append("expiresAt") }
        if changes.status != nil { fields.append("status") }
        if changes.providerAccount != nil { fields.append("providerAccount") }
        if changes.isDefault != nil { fields.append("isDefault") }
        if changes.providerAccountID != nil { fields.append("providerAccountId") }
        if changes.connectionConfig != nil { fields.append("connectionConfig") }
        if changes.secret != nil { fields.append("secret") }
        return fields
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as KeyError: error.description
        case CiphertextError.malformed: "malformed ciphertext"
        case CiphertextError.authenticationFailed: "authentication failed"
        default: "undecodable payload"
        }
    }

    static func count(_ operation: String, _ result: String) {
        Counter(label: "latchkey_vault_operations_total", dimensions: [("operation", operation), ("result", result)]).increment()
    }
}
