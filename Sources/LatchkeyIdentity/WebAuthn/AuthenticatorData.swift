public import Foundation

/// The authenticator data of a WebAuthn ceremony (WebAuthn §6.1): the relying party's ID hash, the flags, the
/// signature counter and, when registering, the new credential with its public key.
public struct AuthenticatorData: Sendable, Equatable {
    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// User present.
        public static let userPresent = Flags(rawValue: 0x01)
        /// User verified (a PIN, a fingerprint).
        public static let userVerified = Flags(rawValue: 0x04)
        public static let backupEligible = Flags(rawValue: 0x08)
        public static let backedUp = Flags(rawValue: 0x10)
        /// Attested credential data follows the counter.
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        /// Extensions follow.
        public static let extensionData = Flags(rawValue: 0x80)
    }

    /// The credential created by a registration.
    public struct AttestedCredential: Sendable, Equatable {
        public var aaguid: Data
        public var credentialID: Data
        public var publicKey: COSEKey
    }

    public var rpIDHash: Data
    public var flags: Flags
    public var signCount: UInt32
    public var attestedCredential: AttestedCredential?
    /// The raw bytes, which assertions sign.
    public var raw: Data

    /// The most bytes a credential ID may have (WebAuthn Level 3 caps it at 1023).
    static let maximumCredentialIDLength = 1023

    public init(_ data: Data) throws {
        let bytes = Array(data)
        guard bytes.count >= 37 else { throw WebAuthnError("The authenticator data is too short.") }
        raw = data
        rpIDHash = Data(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        var offset = 37
        if flags.contains(.attestedCredentialData) {
            guard bytes.count >= offset + 18 else { throw WebAuthnError("The attested credential data is too short.") }
            let aaguid = Data(bytes[offset..<offset + 16])
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard length > 0, length <= Self.maximumCredentialIDLength, bytes.count >= offset + length else {
                throw WebAuthnError("The credential ID has a wrong length.")
            }
            let credentialID = Data(bytes[offset..<offset + length])
            offset += length
            var reader = CBORReader(data, offset: offset)
            let key: CBOR
            do { key = try reader.read() } catch { throw WebAuthnError("The credential public key is not valid CBOR (\(error)).") }
            offset = reader.offset
            attestedCredential = AttestedCredential(aaguid: aaguid, credentialID: credentialID, publicKey: try COSEKey(key))
        } else {
            attestedCredential = nil
        }
        if flags.contains(.extensionData) {
            var reader = CBORReader(data, offset: offset)
            do { _ = try reader.read() } catch { throw WebAuthnError("The extensions are not valid CBOR (\(error)).") }
            offset = reader.offset
        }
        guard offset == bytes.count else { throw WebAuthnError("The authenticator data has \(bytes.count - offset) unexpected bytes at its end.") }
    }
}
