public import Foundation

/// Random identifiers and tokens from the system's cryptographic generator.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        // Eight bytes per call of the generator (each call asks the kernel), not one.
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            let word = generator.next()
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0.prefix(count - bytes.count)) }
        }
        return bytes
    }

    /// A 256-bit token in URL-safe base64 without padding, behind `prefix` (`lk_live_`, `lk_app_`, …).
    public static func token(prefix: String = "", byteCount: Int = 32) -> String {
        prefix + Data(bytes(byteCount)).base64URLEncodedString()
    }
}

extension Data {
    /// URL-safe base64 without padding (RFC 4648 §5).
    public func base64URLEncodedString() -> String {
        // One pass over the bytes (hot: every token and PKCE check), instead of three string replacements.
        let standard = base64EncodedData()
        var output: [UInt8] = []
        output.reserveCapacity(standard.count)
        for byte in standard {
            switch byte {
            case UInt8(ascii: "+"): output.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): output.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Lowercase hexadecimal.
    public var hexString: String { Hex.lowercase(self) }
}
