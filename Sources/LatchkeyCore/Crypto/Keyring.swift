public import Crypto
public import Foundation
import Synchronization

/// A data key as it is stored: wrapped (AES-GCM) under the master key.
public struct WrappedKey: Sendable, Equatable {
    public enum Purpose: String, Sendable {
        /// Encrypts secrets; versioned, the newest is used for new writes.
        case data
        /// The root from which HMAC keys (API key index, audit fingerprints, token hashes) are derived with HKDF.
        case hmac
    }

    public var purpose: Purpose
    public var version: Int
    public var wrapped: Data
    public var createdAt: Date

    public init(purpose: Purpose, version: Int, wrapped: Data, createdAt: Date) {
        self.purpose = purpose
        self.version = version
        self.wrapped = wrapped
        self.createdAt = createdAt
    }

    /// Wraps fresh key material under `master`.
    public static func wrap(_ key: SymmetricKey, purpose: Purpose, version: Int, master: MasterKey, createdAt: Date) throws -> WrappedKey {
        let sealed = try key.withUnsafeBytes { bytes in
            try AES.GCM.seal(Data(bytes), using: master.key, authenticating: wrapAAD(purpose: purpose, version: version))
        }
        // A 12-byte nonce always yields a combined representation.
        return WrappedKey(purpose: purpose, version: version, wrapped: sealed.combined!, createdAt: createdAt)
    }

    /// Unwraps with `master`; a wrong master key or an altered row throws.
    public func unwrap(with master: MasterKey) throws -> SymmetricKey {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            let raw = try AES.GCM.open(box, using: master.key, authenticating: Self.wrapAAD(purpose: purpose, version: version))
            return SymmetricKey(data: raw)
        } catch {
            throw KeyError.keyringCorrupt(version: version)
        }
    }

    static func wrapAAD(purpose: Purpose, version: Int) -> Data {
        Data("latchkey-keyring-v1|\(purpose.rawValue)|\(version)".utf8)
    }
}

/// The unwrapped keys in memory: envelope encryption of secrets (AES-256-GCM, random 96-bit nonce, context-bound)
/// and HKDF-derived HMAC keys. Safe to share; `reload` swaps in a newer keyring (after a rotation elsewhere).
public final class Keyring: Sendable {
    struct State {
        var master: MasterKey
        var dataKeys: [Int: SymmetricKey]
        var activeVersion: Int
        var hmacRoot: SymmetricKey
        var derived: [String: SymmetricKey]
        /// HMAC states already keyed with a derived key, by purpose: copied for each MAC instead of keying again.
        var keyed: [String: HMAC<SHA256>] = [:]
    }

    private let state: Mutex<State>

    /// Format byte at the front of every ciphertext this keyring writes.
    static let formatV1: UInt8 = 1
    static let headerLength = 1 + 4
    static let nonceLength = 12
    static let tagLength = 16

    public init(master: MasterKey, keys: [WrappedKey], activeVersion: Int) throws {
        self.state = Mutex(try Self.unwrapAll(master: master, keys: keys, activeVersion: activeVersion))
    }

    /// Replaces the key set, for example after `latchkey keys rotate` ran in another process.
    public func reload(keys: [WrappedKey], activeVersion: Int) throws {
        let master = state.withLock { $0.master }
        let fresh = try Self.unwrapAll(master: master, keys: keys, activeVersion: activeVersion)
        state.withLock { $0 = fresh }
    }

    private static func unwrapAll(master: MasterKey, keys: [WrappedKey], activeVersion: Int) throws -> State {
        var dataKeys: [Int: SymmetricKey] = [:]
        var hmacRoot: SymmetricKey?
        for key in keys {
            switch key.purpose {
            case .data: dataKeys[key.version] = try key.unwrap(with: master)
            case .hmac: hmacRoot = try key.unwrap(with: master)
            }
        }
        guard dataKeys[activeVersion] != nil else { throw KeyError.unknownKeyVersion(activeVersion) }
        guard let hmacRoot else { throw KeyError(description: "The keyring has no HMAC root key.") }
        return State(master: master, dataKeys: dataKeys, activeVersion: activeVersion, hmacRoot: hmacRoot, derived: [:])
    }

    /// The data-key version new writes use.
    public var activeVersion: Int { state.withLock { $0.activeVersion } }

    /// Every data-key version this keyring can read.
    public var versions: [Int] { state.withLock { $0.dataKeys.keys.sorted() } }

    public var masterKey: MasterKey { state.withLock { $0.master } }

    /// Encrypts under the active data key.
    public func seal(_ plaintext: Data, context: EncryptionContext) throws -> Data {
        let (version, key) = state.withLock { ($0.activeVersion, $0.dataKeys[$0.activeVersion]!) }
        return try Self.seal(plaintext, key: key, version: version, context: context)
    }

    /// Encrypts under a given version (used by re-wrap to target exactly the version it is moving rows to).
    public func seal(_ plaintext: Data, context: EncryptionContext, version: Int) throws -> Data {
        guard let key = state.withLock({ $0.dataKeys[version] }) else { throw KeyError.unknownKeyVersion(version) }
        return try Self.seal(plaintext, key: key, version: version, context: context)
    }

    /// Decrypts; throws `KeyError.unknownKeyVersion` for a version this keyring does not hold and
    /// `CiphertextError` for anything altered, truncated or moved.
    public func open(_ ciphertext: Data, context: EncryptionContext) throws -> Data {
        let version = try Self.keyVersion(of: ciphertext)
        guard let key = state.withLock({ $0.dataKeys[version] }) else { throw KeyError.unknownKeyVersion(version) }
        do {
            let body = ciphertext.dropFirst(Self.headerLength)
            let box = try AES.GCM.SealedBox(combined: body)
            return try AES.GCM.open(box, using: key, authenticating: context.authenticatedData(keyVersion: version))
        } catch {
            throw CiphertextError.authenticationFailed
        }
    }

    /// The data-key version a ciphertext was written under, read from its header.
    public static func keyVersion(of ciphertext: Data) throws -> Int {
        guard ciphertext.count >= headerLength + nonceLength + tagLength, ciphertext[ciphertext.startIndex] == formatV1 else {
            throw CiphertextError.malformed
        }
        var version: UInt32 = 0
        for byte in ciphertext.dropFirst(1).prefix(4) { version = version << 8 | UInt32(byte) }
        return Int(version)
    }

    private static func seal(_ plaintext: Data, key: SymmetricKey, version: Int, context: EncryptionContext) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: context.authenticatedData(keyVersion: version))
        var out = Data(capacity: headerLength + nonceLength + plaintext.count + tagLength)
        out.append(formatV1)
        var be = UInt32(version).bigEndian
        withUnsafeBytes(of: &be) { out.append(contentsOf: $0) }
        out.append(box.combined!)
        return out
    }

    /// A key for HMAC, derived with HKDF-SHA256 from the keyring's HMAC root; stable across data-key and master-key
    /// rotation. `purpose` separates uses ("api-key-index", "audit-fingerprint", …).
    public func hmacKey(purpose: String) -> SymmetricKey {
        state.withLock { state in
            if let key = state.derived[purpose] { return key }
            let key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: state.hmacRoot,
                salt: Data("latchkey-hkdf-v1".utf8),
                info: Data(purpose.utf8),
                outputByteCount: 32
            )
            state.derived[purpose] = key
            return key
        }
    }

    /// HMAC-SHA-256 of `value` under the derived key for `purpose`, in hex. On the hot paths (every API call's key
    /// lookup, every token's audit fingerprint): the keyed state is made once per purpose and copied.
    public func mac(_ value: String, purpose: String) -> String {
        var hmac = keyedHMAC(purpose: purpose)
        var value = value
        value.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        return Hex.lowercase(hmac.finalize())
    }

    private func keyedHMAC(purpose: String) -> HMAC<SHA256> {
        if let keyed = state.withLock({ $0.keyed[purpose] }) { return keyed }
        let keyed = HMAC<SHA256>(key: hmacKey(purpose: purpose))
        state.withLock { $0.keyed[purpose] = keyed }
        return keyed
    }

    /// A short, non-reversible fingerprint of a secret for audit events and logs.
    public func fingerprint(_ secret: String) -> String {
        "fp_" + String(mac(secret, purpose: "audit-fingerprint").prefix(16))
    }
}

/// A ciphertext that is not what this keyring wrote for that place.
public enum CiphertextError: Error, Sendable, Equatable {
    case malformed
    case authenticationFailed
}
