import Crypto
import Foundation
import JWTKit
import LatchkeyCore
import LatchkeyOAuthClient
import _CryptoExtras

/// The claims a test provider puts in its id_tokens.
struct TestIDTokenClaims: JWTPayload {
    var iss: String
    var sub: String
    var aud: [String]
    var azp: String?
    var exp: Int
    var iat: Int
    var nonce: String?
    var email: String?
    var email_verified: Bool?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A key a test provider signs with, and its public half as a JWK.
struct TestSigningKey: Sendable {
    let keyID: String
    let collection: JWTKeyCollection
    let publicJWK: [String: String]

    static func rsa(_ keyID: String) async throws -> TestSigningKey {
        let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let collection = JWTKeyCollection()
        await collection.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyID))
        let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
        return TestSigningKey(
            keyID: keyID,
            collection: collection,
            publicJWK: [
                "kty": "RSA", "kid": keyID, "use": "sig", "alg": "RS256", "n": modulus.base64URLEncodedString(),
                "e": exponent.base64URLEncodedString(),
            ]
        )
    }

    static func ec(_ keyID: String) async throws -> TestSigningKey {
        let key = ES256PrivateKey()
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
        guard let parameters = key.parameters else { throw JWTError.generic(identifier: "test", reason: "no EC parameters") }
        return TestSigningKey(
            keyID: keyID,
            collection: collection,
            publicJWK: ["kty": "EC", "kid": keyID, "crv": "P-256", "x": parameters.x, "y": parameters.y]
        )
    }

    func sign(_ claims: TestIDTokenClaims, keyID: String? = nil) async throws -> String {
        var header = JWTHeader()
        header.kid = keyID ?? self.keyID
        return try await collection.sign(claims, header: header)
    }
}

/// A provider's key-set endpoint whose keys a test changes; counts how often it is read.
actor FakeKeySetEndpoint: HTTPTransport {
    var keys: [[String: String]]
    private(set) var reads = 0

    init(keys: [[String: String]]) {
        self.keys = keys
    }

    func publish(_ keys: [[String: String]]) {
        self.keys = keys
    }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        reads += 1
        let body = try JSONSerialization.data(withJSONObject: ["keys": keys])
        return OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "application/json")], body: body)
    }
}

/// Builds a compact JWS with any header, for tokens no honest library would sign (`alg: none`, HS256 over a public key).
enum RawJWT {
    static func encode(header: [String: String], claims: TestIDTokenClaims, signature: (Data) -> Data) throws -> String {
        let head = try JSONSerialization.data(withJSONObject: header).base64URLEncodedString()
        let body = try JSONEncoder().encode(claims).base64URLEncodedString()
        let signed = Data("\(head).\(body)".utf8)
        return "\(head).\(body).\(signature(signed).base64URLEncodedString())"
    }
}
