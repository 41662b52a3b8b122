import Crypto
public import Foundation

/// The signature on every webhook delivery, in the header `Latchkey-Signature: t=<unix seconds>,v1=<hex>`, where
/// `v1` is HMAC-SHA-256, keyed with the endpoint's signing secret (the whole `whsec_…` string, as UTF-8), over the
/// bytes `"<t>.<body>"`. Receivers recompute it over the raw body, compare in constant time, and refuse timestamps
/// too far from their own clock, so that a captured delivery cannot be replayed later.
public enum WebhookSignature {
    /// The name of the header the signature travels in.
    public static let headerName = "Latchkey-Signature"

    /// The header value for `body` sent at `timestamp` (Unix seconds).
    public static func sign(secret: String, timestamp: Int, body: Data) -> String {
        "t=\(timestamp),v1=\(Data(mac(secret: secret, timestamp: timestamp, body: body)).hexString)"
    }

    /// True when `header` carries a `v1` signature of `body` under `secret` and its timestamp lies within
    /// `tolerance` of `now`. Several `v1` entries are accepted (any one may match); unknown entries are ignored.
    public static func verify(header: String, secret: String, body: Data, now: Date, tolerance: TimeInterval = 300) -> Bool {
        var timestamp: Int?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int(pair[1])
            case "v1": if let bytes = bytes(hex: pair[1]) { signatures.append(bytes) }
            default: continue
            }
        }
        guard let timestamp, !signatures.isEmpty, abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else { return false }
        let expected = mac(secret: secret, timestamp: timestamp, body: body)
        return signatures.contains { ConstantTime.equals($0, expected) }
    }

    private static func mac(secret: String, timestamp: Int, body: Data) -> [UInt8] {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8))))
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
