import Foundation
import LatchkeyCore
import Testing

/// Tokens and their URL-safe encoding.
@Suite("Secure random and base64url")
struct SecureRandomTests {
    @Test func base64URLUsesTheURLSafeAlphabetWithoutPadding() {
        // Bytes whose standard base64 holds "+", "/" and padding.
        #expect(Data([0xFB, 0xFF]).base64URLEncodedString() == "-_8")
        #expect(Data([0xFB, 0xEF, 0xBE]).base64URLEncodedString() == "----")
        #expect(Data([0xFF, 0xFF, 0xFF]).base64URLEncodedString() == "____")
        #expect(Data("f".utf8).base64URLEncodedString() == "Zg")
        #expect(Data("foobar".utf8).base64URLEncodedString() == "Zm9vYmFy")
        #expect(Data().base64URLEncodedString() == "")
    }

    @Test func bytesHaveTheAskedLengthAndTokensDiffer() {
        for count in [0, 1, 7, 8, 9, 31, 32, 33, 64] { #expect(SecureRandom.bytes(count).count == count) }
        let tokens = Set((0..<64).map { _ in SecureRandom.token(prefix: "lk_at_") })
        #expect(tokens.count == 64)
        #expect(tokens.allSatisfy { $0.hasPrefix("lk_at_") && $0.count == 6 + 43 })
        // 32 random bytes are not all one value (a generator stuck on a constant would be).
        #expect(Set(SecureRandom.bytes(32)).count > 8)
    }
}
