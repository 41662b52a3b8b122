public import Crypto
public import Foundation

/// A credential public key in COSE form (RFC 9053). Only ES256 — ECDSA on P-256 with SHA-256, COSE algorithm -7 —
/// is accepted: every platform and roaming authenticator offers it, and it is the one this server asks for.
public struct COSEKey: Sendable, Equatable {
    public static let es256 = -7

    public let publicKey: P256.Signing.PublicKey

    public init(_ item: CBOR) throws {
        guard item[1]?.int == 2 else { throw WebAuthnError("Only elliptic-curve (EC2) keys are supported.") }
        guard item[3]?.int == Self.es256 else { throw WebAuthnError("Only the ES256 algorithm is supported.") }
        guard item[-1]?.int == 1 else { throw WebAuthnError("Only the P-256 curve is supported.") }
        guard let x = item[-2]?.bytes, let y = item[-3]?.bytes, x.count == 32, y.count == 32 else {
            throw WebAuthnError("The key's coordinates are missing or have a wrong length.")
        }
        do {
            publicKey = try P256.Signing.PublicKey(x963Representation: Data([0x04]) + x + y)
        } catch {
            throw WebAuthnError("The key is not a point on P-256.")
        }
    }

    public init(publicKey: P256.Signing.PublicKey) {
        self.publicKey = publicKey
    }

    /// The key as stored: the uncompressed point (65 bytes).
    public var stored: Data { publicKey.x963Representation }

    public init(stored: Data) throws {
        do { publicKey = try P256.Signing.PublicKey(x963Representation: stored) } catch { throw WebAuthnError("The stored key is not valid.") }
    }

    public static func == (lhs: COSEKey, rhs: COSEKey) -> Bool { lhs.stored == rhs.stored }

    /// Whether `signature` (DER, as authenticators send it) signs `message`.
    public func verify(signature: Data, message: Data) -> Bool {
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        return publicKey.isValidSignature(parsed, for: message)
    }
}

/// Why a WebAuthn response was refused, in words a person can act on.
public struct WebAuthnError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// The signature was good but the counter did not move forward: two authenticators may hold one credential.
    public var possibleClone = false
    public init(_ description: String) { self.description = description }
}
