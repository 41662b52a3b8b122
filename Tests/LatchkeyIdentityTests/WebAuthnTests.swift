import Crypto
import Foundation
import LatchkeyIdentity
import LatchkeyTesting
import Testing

/// Passkey registration and sign-in as the relying party checks them, against a software authenticator.
@Suite("WebAuthn relying party")
struct WebAuthnTests {
    let rp = WebAuthnRelyingParty(id: "latchkey.example", origin: "https://latchkey.example")
    let challenge = Data((0..<32).map { UInt8($0 * 7 & 0xFF) })

    func register(_ authenticator: SoftwareAuthenticator, challenge: Data? = nil, uv: Bool = true) throws -> WebAuthnRelyingParty.Registration {
        let (clientData, attestation) = authenticator.register(challenge: challenge ?? self.challenge)
        return try rp.verifyRegistration(
            clientDataJSON: clientData,
            attestationObject: attestation,
            expectedChallenge: self.challenge,
            requireUserVerification: uv
        )
    }

    @Test func aPasskeyRegistersAndSignsIn() throws {
        var authenticator = SoftwareAuthenticator()
        let registration = try register(authenticator)
        #expect(registration.credentialID == authenticator.credentialID)
        #expect(registration.publicKey.stored == authenticator.key.publicKey.x963Representation)
        #expect(registration.userVerified && registration.attestationFormat == "none")
        let stored = try COSEKey(stored: registration.publicKey.stored)
        let assertion = try authenticator.assert(challenge: challenge)
        let result = try rp.verifyAssertion(
            clientDataJSON: assertion.clientDataJSON,
            authenticatorData: assertion.authenticatorData,
            signature: assertion.signature,
            expectedChallenge: challenge,
            publicKey: stored,
            storedSignCount: registration.signCount,
            requireUserVerification: true
        )
        #expect(result.signCount == 1 && result.userVerified)
    }

    @Test func registrationRefusesAnotherChallengeOriginOrSiteAndAMissingVerification() throws {
        let authenticator = SoftwareAuthenticator()
        #expect(throws: WebAuthnError.self) { try register(authenticator, challenge: Data(repeating: 1, count: 32)) }
        var elsewhere = SoftwareAuthenticator()
        elsewhere.origin = "https://evil.example"
        #expect(throws: WebAuthnError.self) { try register(elsewhere) }
        var otherSite = SoftwareAuthenticator()
        otherSite.rpID = "evil.example"
        #expect(throws: WebAuthnError.self) { try register(otherSite) }
        var unverified = SoftwareAuthenticator()
        unverified.flags = 0x01
        #expect(throws: WebAuthnError.self) { try register(unverified) }
        #expect(try register(unverified, uv: false).userVerified == false)
        var absent = SoftwareAuthenticator()
        absent.flags = 0x04
        #expect(throws: WebAuthnError.self) { try register(absent, uv: false) }
        // A get() answer offered as a create() one.
        let clientData = authenticator.clientData(type: "webauthn.get", challenge: challenge)
        #expect(throws: WebAuthnError.self) {
            try rp.verifyRegistration(
                clientDataJSON: clientData,
                attestationObject: authenticator.register(challenge: challenge).attestationObject,
                expectedChallenge: challenge,
                requireUserVerification: true
            )
        }
    }

    @Test func signInRefusesAnotherOriginAForgedSignatureAnotherKeyAndAStaleCounter() throws {
        var authenticator = SoftwareAuthenticator()
        let key = try register(authenticator).publicKey
        func verify(_ assertion: (clientDataJSON: Data, authenticatorData: Data, signature: Data), key: COSEKey, stored: UInt32) throws {
            _ = try rp.verifyAssertion(
                clientDataJSON: assertion.clientDataJSON,
                authenticatorData: assertion.authenticatorData,
                signature: assertion.signature,
                expectedChallenge: challenge,
                publicKey: key,
                storedSignCount: stored,
                requireUserVerification: true
            )
        }
        #expect(throws: WebAuthnError.self) {
            try verify(try authenticator.assert(challenge: challenge, origin: "https://evil.example"), key: key, stored: 0)
        }
        var tampered = try authenticator.assert(challenge: challenge)
        tampered.signature[tampered.signature.count - 1] ^= 0x01
        #expect(throws: WebAuthnError.self) { try verify(tampered, key: key, stored: 0) }
        let other = SoftwareAuthenticator()
        #expect(throws: WebAuthnError.self) {
            try verify(try authenticator.assert(challenge: challenge), key: COSEKey(publicKey: other.key.publicKey), stored: 0)
        }
        // The counter is at 4 now; a copy of the authenticator that signs with counter 2 is refused.
        let fresh = try authenticator.assert(challenge: challenge)
        try verify(fresh, key: key, stored: 3)
        #expect(throws: WebAuthnError.self) { try verify(fresh, key: key, stored: 4) }
        #expect(throws: WebAuthnError.self) { try verify(fresh, key: key, stored: 9) }
    }

    @Test func authenticatorDataWithTrailingBytesOrAForeignKeyIsRefused() throws {
        let authenticator = SoftwareAuthenticator()
        var data = authenticator.authenticatorData(attested: true)
        data.append(0x00)
        #expect(throws: WebAuthnError.self) { try AuthenticatorData(data) }
        #expect(throws: WebAuthnError.self) { try AuthenticatorData(Data(repeating: 0, count: 36)) }
        // An RSA key (kty 3, RS256) is not offered and not accepted.
        let rsa = CBOR.map([CBOREncoder.int(1): CBOREncoder.int(3), CBOREncoder.int(3): CBOREncoder.int(-257)])
        #expect(throws: WebAuthnError.self) { try COSEKey(rsa) }
        let notOnCurve = CBOR.map([
            CBOREncoder.int(1): CBOREncoder.int(2), CBOREncoder.int(3): CBOREncoder.int(-7), CBOREncoder.int(-1): CBOREncoder.int(1),
            CBOREncoder.int(-2): .bytes(Data(repeating: 1, count: 32)), CBOREncoder.int(-3): .bytes(Data(repeating: 2, count: 32)),
        ])
        #expect(throws: WebAuthnError.self) { try COSEKey(notOnCurve) }
    }

    @Test func theRelyingPartyOfAPublicURL() throws {
        let rp = try #require(WebAuthnRelyingParty(publicURL: URL(string: "http://localhost:8080/")!))
        #expect(rp.id == "localhost" && rp.origin == "http://localhost:8080")
        let plain = try #require(WebAuthnRelyingParty(publicURL: URL(string: "https://vault.example.com")!))
        #expect(plain.id == "vault.example.com" && plain.origin == "https://vault.example.com")
    }
}
