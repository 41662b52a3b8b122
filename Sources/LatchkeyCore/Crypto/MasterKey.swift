public import Crypto
import Foundation

/// The key-encryption key. It never encrypts a credential itself: it wraps the versioned data keys of the keyring.
public struct MasterKey: Sendable {
    public let key: SymmetricKey

    public init(_ key: SymmetricKey) throws {
        guard key.bitCount == 256 else { throw KeyError.wrongMasterKeyLength(bytes: key.bitCount / 8) }
        self.key = key
    }

    /// Parses a base64 master key (standard or URL-safe alphabet), which must decode to exactly 32 bytes.
    public init(base64: String, source: String) throws {
        let trimmed = base64.trimmingCharacters(in: .whitespacesAndNewlines)
        var normalized = trimmed.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while normalized.count % 4 != 0 { normalized += "=" }
        guard !trimmed.isEmpty, let data = Data(base64Encoded: normalized) else {
            throw KeyError.malformedMasterKey(source: source)
        }
        guard data.count == 32 else { throw KeyError.wrongMasterKeyLength(bytes: data.count, source: source) }
        try self.init(SymmetricKey(data: data))
    }

    /// A new random master key.
    public static func generate() -> MasterKey {
        // 256 bits is what init checks; this cannot fail.
        try! MasterKey(SymmetricKey(size: .bits256))
    }

    public var base64: String {
        key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// A key-check value: an HMAC of a fixed label under this key. Stored at first start so that an instance
    /// started with another key refuses to run, before any credential is read. It reveals nothing of the key.
    public var checkValue: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("latchkey key check v1".utf8), using: key)
        return Data(mac).prefix(16).hexString
    }
}

/// Faults of the key material. Their messages say what to do and never contain key bytes.
public struct KeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }

    public static func malformedMasterKey(source: String) -> Self {
        .init(
            description:
                "The master key in \(source) is not valid base64. It must be 32 random bytes, base64-encoded (for example: openssl rand -base64 32)."
        )
    }
    public static func wrongMasterKeyLength(bytes: Int, source: String = "the configuration") -> Self {
        .init(description: "The master key in \(source) is \(bytes) bytes long; it must be exactly 32 bytes (256 bits), base64-encoded.")
    }
    public static func masterKeyMismatch(source: String) -> Self {
        .init(
            description:
                "The master key from \(source) is not the key this database was created with (the key-check value differs). Start Latchkey with the original master key: restore the key file from your backup or set LATCHKEY_MASTER_KEY."
        )
    }
    public static func masterKeyMissing(source: String) -> Self {
        .init(
            description:
                "This database holds encrypted data but no master key was found (\(source)). Restore the key file from your backup or set LATCHKEY_MASTER_KEY; Latchkey will not create a new key for existing data."
        )
    }
    public static func unknownKeyVersion(_ version: Int) -> Self {
        .init(description: "Data key version \(version) is not in the keyring.")
    }
    public static func keyringCorrupt(version: Int) -> Self {
        .init(
            description:
                "Data key version \(version) could not be unwrapped with the master key: the keyring row was altered or the master key is wrong."
        )
    }
    public static func fileAccess(_ path: String, _ reason: String) -> Self {
        .init(description: "The key file \(path) \(reason).")
    }
}
