import Foundation

/// What a ciphertext is bound to. Every part goes into the AES-GCM authenticated data, so a ciphertext copied to
/// another tenant, owner, row or field — or relabelled with another key version — fails to decrypt.
public struct EncryptionContext: Sendable, Hashable {
    public var tenantID: String
    public var ownerID: String
    public var recordID: String
    public var field: String

    public init(tenantID: String, ownerID: String, recordID: String, field: String) {
        self.tenantID = tenantID
        self.ownerID = ownerID
        self.recordID = recordID
        self.field = field
    }

    /// Length-prefixed so that no choice of values can make two contexts serialize alike.
    func authenticatedData(keyVersion: Int) -> Data {
        var out = Data("latchkey-aad-v1".utf8)
        for part in [tenantID, ownerID, recordID, field, String(keyVersion)] {
            let bytes = Array(part.utf8)
            var length = UInt32(bytes.count).bigEndian
            withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        return out
    }
}
