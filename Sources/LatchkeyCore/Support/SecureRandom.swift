public import Foundation

/// Random identifiers and tokens from the system's cryptographic generator.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// A 256-bit token in URL-safe base64 without padding, behind `prefix` (`lk_live_`, `lk_app_`, …).
    public static func token(prefix: String = "", byteCount: Int = 32) -> String {
        prefix + Data(bytes(byteCount)).base64URLEncodedString()
    }
}

extension Data {
    /// URL-safe base64 without padding (RFC 4648 §5).
    public func base64URLEncodedString() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Lowercase hexadecimal.
    public var hexString: String { Hex.lowercase(self) }
}
