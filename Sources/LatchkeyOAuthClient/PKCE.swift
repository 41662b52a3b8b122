import Crypto
import Foundation
import LatchkeyCore

/// Proof Key for Code Exchange (RFC 7636), S256 only: `plain` is never offered (RFC 9700 §2.1.1).
public enum PKCE {
    /// A new code verifier: 32 random bytes as base64url, 43 characters of the unreserved alphabet (256 bits of randomness).
    public static func makeVerifier() -> String {
        SecureRandom.token(byteCount: 32)
    }

    /// The S256 challenge of `verifier`: base64url of its SHA-256, without padding.
    public static func challenge(for verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }

    /// Whether `verifier` has the length and alphabet RFC 7636 §4.1 demands.
    public static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.count)
            && verifier.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~".unicodeScalars.contains($0)) }
    }
}
