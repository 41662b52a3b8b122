import Crypto
public import Foundation
import LatchkeyCore

/// Time-based one-time passwords (RFC 6238) as authenticator apps make them: HMAC-SHA-1, 6 digits, 30-second steps.
/// A code is accepted for the current step and one step either side (clock drift).
public struct TOTP: Sendable {
    /// The shared secret (20 random bytes for a new one).
    public let secret: [UInt8]
    public var digits = 6
    public var period: TimeInterval = 30
    /// Steps accepted either side of the current one.
    public var window = 1

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// A new random 160-bit secret.
    public static func newSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The time step `date` falls in.
    public func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / period).rounded(.down))
    }

    /// The code of a time step (RFC 4226 dynamic truncation).
    public func code(step: Int64) -> String {
        var counter = UInt64(step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The code at `date`.
    public func code(at date: Date) -> String { code(step: step(at: date)) }

    /// The step whose code `code` is, within the window around `date` and after `usedStep` (the step of the last code
    /// accepted, which is never accepted again); nil when it matches none.
    public func matchingStep(_ code: String, at date: Date, after usedStep: Int64? = nil) -> Int64? {
        let code = code.filter { !$0.isWhitespace }
        guard code.count == digits, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return nil }
        let now = step(at: date)
        var found: Int64?
        for step in (now - Int64(window))...(now + Int64(window)) where usedStep.map({ step > $0 }) ?? true {
            // Every candidate is compared, matched or not, so the time taken says nothing about which one matched.
            if ConstantTime.equals(self.code(step: step), code) && found == nil { found = step }
        }
        return found
    }

    /// The `otpauth://` URI authenticator apps import (also what a QR code would hold).
    public func uri(account: String, issuer: String) -> String {
        let label =
            "\(issuer):\(account)".addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "@.-_"))) ?? ""
        let issuerParameter = issuer.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".-_"))) ?? ""
        return
            "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(issuerParameter)&algorithm=SHA1&digits=\(digits)&period=\(Int(period))"
    }
}
