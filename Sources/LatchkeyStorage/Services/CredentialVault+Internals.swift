import Foundation
public import LatchkeyCore
import Metrics
import SQLKit

extension CredentialVault {
    func stored(id: String, tenantID: String, actor: AuditActor) async throws -> StoredCredential {
        if let stored = try await credentials.find(id: id, tenantID: tenantID) { return stored }
        if try await credentials.existsInAnotherTenant(id: id, tenantID: tenantID) {
            try await audit.append(
                AuditRecord(actor: actor, action: "credential.access_denied", target: id, result: "denied", details: ["reason": "other_tenant"]),
                tenantID: tenantID
            )
        }
        throw LatchkeyError.notFound("credential")
    }

    /// Decrypts a stored payload; an unknown key version triggers one keyring reload (a rotation elsewhere).
    public func open(_ stored: StoredCredential) async throws -> CredentialSecret {
        let plaintext: Data
        do {
            plaintext = try keyring.open(stored.payload, context: stored.credential.payloadContext)
        } catch is KeyError {
            try await keyManager.refresh(keyring)
            plaintext = try keyring.open(stored.payload, context: stored.credential.payloadContext)
        }
        return try JSONDecoder().decode(CredentialSecret.self, from: plaintext)
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
