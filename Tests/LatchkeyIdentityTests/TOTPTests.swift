import Foundation
import LatchkeyIdentity
import LatchkeyTesting
import Testing

/// TOTP against the RFC 6238 Appendix B vectors (SHA-1), the ±1 step window, replay of a used step, base32 and the
/// `otpauth://` URI an authenticator app imports.
@Suite("TOTP")
struct TOTPTests {
    /// The RFC's SHA-1 seed: the ASCII bytes of "12345678901234567890".
    static let seed = Array("12345678901234567890".utf8)

    @Test func matchesTheSpecificationVectors() {
        var totp = TOTP(secret: Self.seed)
        totp.digits = 8
        let vectors: [(TimeInterval, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        for (seconds, code) in vectors {
            #expect(totp.code(at: Date(timeIntervalSince1970: seconds)) == code)
        }
        // Six digits are the last six of the eight.
        #expect(TOTP(secret: Self.seed).code(at: Date(timeIntervalSince1970: 59)) == "287082")
    }

    @Test func acceptsOneStepEitherSideAndNothingFurther() {
        let clock = TestClock(now: Date(timeIntervalSince1970: 1_111_111_111))
        let totp = TOTP(secret: Self.seed)
        let now = totp.step(at: clock.now)
        #expect(totp.matchingStep(totp.code(step: now), at: clock.now) == now)
        #expect(totp.matchingStep(totp.code(step: now - 1), at: clock.now) == now - 1)
        #expect(totp.matchingStep(totp.code(step: now + 1), at: clock.now) == now + 1)
        #expect(totp.matchingStep(totp.code(step: now - 2), at: clock.now) == nil)
        clock.advance(by: 90)
        #expect(totp.matchingStep(totp.code(step: now), at: clock.now) == nil)
    }

    @Test func neverAcceptsAStepAlreadyUsed() {
        let date = Date(timeIntervalSince1970: 1_234_567_890)
        let totp = TOTP(secret: Self.seed)
        let step = totp.step(at: date)
        let code = totp.code(step: step)
        #expect(totp.matchingStep(code, at: date, after: step - 1) == step)
        #expect(totp.matchingStep(code, at: date, after: step) == nil)
        // An earlier step's code is refused once a later one was used.
        #expect(totp.matchingStep(totp.code(step: step - 1), at: date, after: step) == nil)
    }

    @Test func refusesWhatIsNotSixDigits() {
        let date = Date(timeIntervalSince1970: 59)
        let totp = TOTP(secret: Self.seed)
        #expect(totp.matchingStep("28708", at: date) == nil)
        #expect(totp.matchingStep("2870822", at: date) == nil)
        #expect(totp.matchingStep("28708a", at: date) == nil)
        #expect(totp.matchingStep("287 082", at: date) != nil)
    }

    @Test func base32RoundTripsAndMatchesTheSpecification() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.encode(Array("f".utf8)) == "MY")
        #expect(Base32.decode("mzxw6ytboi") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW 6YTB OI======") == Array("foobar".utf8))
        #expect(Base32.decode("MZ1W") == nil)
        let secret = TOTP.newSecret()
        #expect(secret.count == 20 && Base32.decode(Base32.encode(secret)) == secret)
    }

    @Test func uriCarriesTheSecretIssuerAndAccount() {
        let uri = TOTP(secret: Self.seed).uri(account: "alice@example.com", issuer: "Latchkey")
        #expect(
            uri
                == "otpauth://totp/Latchkey%3Aalice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Latchkey&algorithm=SHA1&digits=6&period=30"
        )
    }
}
