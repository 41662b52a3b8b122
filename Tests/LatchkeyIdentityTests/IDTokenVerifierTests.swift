import Crypto
import Foundation
import LatchkeyIdentity
import LatchkeyTesting
import Testing

/// id_token checks of single sign-on against a provider's published keys, with keys made in the test.
@Suite("id_token verification")
struct IDTokenVerifierTests {
    static let issuer = "https://id.example.test"
    static let keySetURL = URL(string: "https://id.example.test/jwks")!
    static let clientID = "latchkey-client"

    struct Setup {
        let clock: TestClock
        let endpoint: FakeKeySetEndpoint
        let verifier: IDTokenVerifier
        let key: TestSigningKey

        var expectations: IDTokenExpectations {
            IDTokenExpectations(
                issuer: IDTokenVerifierTests.issuer,
                clientID: IDTokenVerifierTests.clientID,
                nonce: "n-1",
                keySetURL: IDTokenVerifierTests.keySetURL
            )
        }

        func claims(
            issuer: String = IDTokenVerifierTests.issuer,
            audience: [String] = [IDTokenVerifierTests.clientID],
            nonce: String? = "n-1",
            expiresIn: Int = 300
        ) -> TestIDTokenClaims {
            let now = Int(clock.now.timeIntervalSince1970)
            return TestIDTokenClaims(
                iss: issuer,
                sub: "alice-1",
                aud: audience,
                exp: now + expiresIn,
                iat: now,
                nonce: nonce,
                email: "alice@example.com",
                email_verified: true
            )
        }
    }

    static func setup(_ key: TestSigningKey) async throws -> Setup {
        let clock = TestClock()
        let endpoint = FakeKeySetEndpoint(keys: [key.publicJWK])
        let network = FakeNetwork()
        await network.route(host: "id.example.test", to: endpoint)
        let verifier = IDTokenVerifier(keys: JWKSCache(transport: network, clock: clock), clock: clock)
        return Setup(clock: clock, endpoint: endpoint, verifier: verifier, key: key)
    }

    @Test(arguments: ["RS256", "ES256"])
    func acceptsATokenSignedWithThePublishedKey(_ algorithm: String) async throws {
        let key = algorithm == "RS256" ? try await TestSigningKey.rsa("k1") : try await TestSigningKey.ec("k1")
        let setup = try await Self.setup(key)
        let token = try await key.sign(setup.claims())
        let person = try await setup.verifier.verify(token, expecting: setup.expectations)
        #expect(person == VerifiedIDToken(issuer: Self.issuer, subject: "alice-1", email: "alice@example.com", emailVerified: true, name: nil))
        // The key set is kept: a second sign-in does not read it again.
        _ = try await setup.verifier.verify(try await key.sign(setup.claims()), expecting: setup.expectations)
        #expect(await setup.endpoint.reads == 1)
    }

    @Test func refusesASignatureMadeWithAnotherKey() async throws {
        let setup = try await Self.setup(try await TestSigningKey.rsa("k1"))
        let forger = try await TestSigningKey.rsa("k1")
        let token = try await forger.sign(setup.claims())
        await #expect(throws: IDTokenError.badSignature) { try await setup.verifier.verify(token, expecting: setup.expectations) }
    }

    @Test func refusesUnsignedAndSharedSecretTokens() async throws {
        let setup = try await Self.setup(try await TestSigningKey.rsa("k1"))
        let none = try RawJWT.encode(header: ["alg": "none", "kid": "k1"], claims: setup.claims()) { _ in Data() }
        await #expect(throws: IDTokenError.algorithmNotAllowed("none")) { try await setup.verifier.verify(none, expecting: setup.expectations) }
        // HS256 keyed with the provider's public key: the classic confusion of a public key for a shared secret.
        let secret = SymmetricKey(data: Data(setup.key.publicJWK["n"]!.utf8))
        let hmac = try RawJWT.encode(header: ["alg": "HS256", "kid": "k1"], claims: setup.claims()) { data in
            Data(HMAC<SHA256>.authenticationCode(for: data, using: secret))
        }
        await #expect(throws: IDTokenError.algorithmNotAllowed("HS256")) { try await setup.verifier.verify(hmac, expecting: setup.expectations) }
    }

    @Test func refusesAnotherAudienceOrIssuer() async throws {
        let setup = try await Self.setup(try await TestSigningKey.ec("k1"))
        let otherAudience = try await setup.key.sign(setup.claims(audience: ["someone-else"]))
        await #expect(throws: IDTokenError.claimMismatch("aud")) { try await setup.verifier.verify(otherAudience, expecting: setup.expectations) }
        // Several audiences: `azp` must name us, and here there is none.
        let shared = try await setup.key.sign(setup.claims(audience: [Self.clientID, "someone-else"]))
        await #expect(throws: IDTokenError.claimMismatch("azp")) { try await setup.verifier.verify(shared, expecting: setup.expectations) }
        // The issuer is compared exactly: a trailing slash is another issuer.
        let otherIssuer = try await setup.key.sign(setup.claims(issuer: Self.issuer + "/"))
        await #expect(throws: IDTokenError.claimMismatch("iss")) { try await setup.verifier.verify(otherIssuer, expecting: setup.expectations) }
    }

    @Test func refusesAnExpiredTokenBeyondTheLeeway() async throws {
        let setup = try await Self.setup(try await TestSigningKey.rsa("k1"))
        let token = try await setup.key.sign(setup.claims(expiresIn: 300))
        setup.clock.advance(by: 330)
        _ = try await setup.verifier.verify(token, expecting: setup.expectations)
        setup.clock.advance(by: 60)
        await #expect(throws: IDTokenError.expired) { try await setup.verifier.verify(token, expecting: setup.expectations) }
    }

    @Test func refusesAnotherOrMissingNonce() async throws {
        let setup = try await Self.setup(try await TestSigningKey.rsa("k1"))
        // A token of an earlier sign-in, replayed into this one, carries that sign-in's nonce.
        let replayed = try await setup.key.sign(setup.claims(nonce: "n-0"))
        await #expect(throws: IDTokenError.claimMismatch("nonce")) { try await setup.verifier.verify(replayed, expecting: setup.expectations) }
        let missing = try await setup.key.sign(setup.claims(nonce: nil))
        await #expect(throws: IDTokenError.claimMismatch("nonce")) { try await setup.verifier.verify(missing, expecting: setup.expectations) }
    }

    @Test func followsAKeyRotationAndRefusesTheRemovedKey() async throws {
        let old = try await TestSigningKey.rsa("k1")
        let setup = try await Self.setup(old)
        _ = try await setup.verifier.verify(try await old.sign(setup.claims()), expecting: setup.expectations)
        // Two minutes later the provider rotates: k2 replaces k1. The first token with k2 makes the set be read again.
        let new = try await TestSigningKey.ec("k2")
        await setup.endpoint.publish([new.publicJWK])
        setup.clock.advance(by: 120)
        _ = try await setup.verifier.verify(try await new.sign(setup.claims()), expecting: setup.expectations)
        #expect(await setup.endpoint.reads == 2)
        let stale = try await old.sign(setup.claims())
        await #expect(throws: IDTokenError.unknownKey) { try await setup.verifier.verify(stale, expecting: setup.expectations) }
        // Unknown kids read the set again at most once a minute.
        let madeUp = try await new.sign(setup.claims(), keyID: "k9")
        await #expect(throws: IDTokenError.unknownKey) { try await setup.verifier.verify(madeUp, expecting: setup.expectations) }
        #expect(await setup.endpoint.reads == 2)
        setup.clock.advance(by: 61)
        await #expect(throws: IDTokenError.unknownKey) { try await setup.verifier.verify(stale, expecting: setup.expectations) }
        #expect(await setup.endpoint.reads == 3)
    }
}
