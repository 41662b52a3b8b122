import Crypto
import Foundation
import LatchkeyCore

/// Proof Key for Code Exchange (RFC 7636), S256 only.
public enum PKCE {
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Whether `challenge` has the shape of an S256 challenge: 43 base64url characters.
    public static func isChallenge(_ challenge: String) -> Bool {
        challenge.count == 43 && challenge.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Whether `verifier` (43–128 unreserved characters) hashes to `challenge`.
    public static func verify(verifier: String, challenge: String) -> Bool {
        guard (43...128).contains(verifier.count), verifier.allSatisfy(unreserved.contains) else { return false }
        return Self.challenge(for: verifier) == challenge
    }

    /// The S256 challenge of `verifier`.
    public static func challenge(for verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }
}
