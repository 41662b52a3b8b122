public import Foundation
import JWTKit
public import LatchkeyCore
import LatchkeyOAuthClient

/// What an id_token must hold to be accepted for one sign-in.
public struct IDTokenExpectations: Sendable {
    /// The issuer of the provider's discovery document, compared exactly.
    public var issuer: String
    /// Latchkey's client id at the provider: in `aud`, and in `azp` when there are several audiences.
    public var clientID: String
    /// The `nonce` stored for this sign-in.
    public var nonce: String
    /// Where the provider publishes its signing keys (`jwks_uri`).
    public var keySetURL: URL

    public init(issuer: String, clientID: String, nonce: String, keySetURL: URL) {
        self.issuer = issuer
        self.clientID = clientID
        self.nonce = nonce
        self.keySetURL = keySetURL
    }
}

/// The person an accepted id_token names.
public struct VerifiedIDToken: Sendable, Equatable {
    public var issuer: String
    public var subject: String
    public var email: String?
    /// `email_verified` is true (a boolean, or the text `"true"` some providers send).
    public var emailVerified: Bool
    /// `name`, else `preferred_username`.
    public var name: String?

    public init(issuer: String, subject: String, email: String?, emailVerified: Bool, name: String?) {
        self.issuer = issuer
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
    }
}

/// Checks an id_token of an OpenID Connect provider (OpenID Connect Core §3.1.3.7): its signature against the
/// provider's published keys (RS256/384/512, PS256/384/512, ES256/384/512; never `none` nor a shared-secret `HS…`),
/// `iss` exactly, `aud` (and `azp`), `exp` and `iat` within a small leeway of the injected clock, and the `nonce` of the
/// sign-in.
public struct IDTokenVerifier: Sendable {
    let keys: JWKSCache
    let clock: any LatchkeyClock
    /// How far `exp` and `iat` may be off this server's clock.
    public let leeway: TimeInterval

    private static let keyTypes: [String: String] = [
        "RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
        "ES256": "EC", "ES384": "EC", "ES512": "EC",
    ]

    public init(keys: JWKSCache, clock: any LatchkeyClock, leeway: TimeInterval = 60) {
        self.keys = keys
        self.clock = clock
        self.leeway = leeway
    }

    /// The person `idToken` names, once every check passed.
    public func verify(_ idToken: String, expecting expected: IDTokenExpectations) async throws(IDTokenError) -> VerifiedIDToken {
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URLDecoded(String(parts[0])),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw .malformed }
        guard let algorithm = header["alg"] as? String else { throw .malformed }
        guard let keyType = Self.keyTypes[algorithm] else { throw .algorithmNotAllowed(algorithm) }
        let keyID = header["kid"] as? String
        guard let key = try await keys.key(url: expected.keySetURL, keyID: keyID, keyType: keyType) else { throw .unknownKey }
        if let published = key.algorithm, published != algorithm { throw .algorithmNotAllowed(algorithm) }
        try await checkSignature(idToken, key: key, keyID: keyID)
        let claims: IDTokenClaims
        do { claims = try IDTokenClaims.decode(idToken) } catch { throw .malformed }
        return try check(claims, expected: expected)
    }

    private func checkSignature(_ idToken: String, key: JWKSCache.Key, keyID: String?) async throws(IDTokenError) {
        do {
            var jwk = try JWK(json: key.json)
            jwk.keyIdentifier = JWKIdentifier(string: keyID ?? "only")
            let collection = JWTKeyCollection()
            try await collection.add(jwk: jwk, isDefault: true)
            _ = try await collection.verify(idToken, as: SignedPayload.self)
        } catch {
            throw .badSignature
        }
    }

    private func check(_ claims: IDTokenClaims, expected: IDTokenExpectations) throws(IDTokenError) -> VerifiedIDToken {
        guard claims.issuer == expected.issuer else { throw .claimMismatch("iss") }
        guard claims.audience.contains(expected.clientID) else { throw .claimMismatch("aud") }
        let presenter = claims.claims["azp"]?.scalarString
        if claims.audience.count > 1 || presenter != nil, presenter != expected.clientID { throw .claimMismatch("azp") }
        let now = clock.now
        guard let expires = claims.expiresAt, now.timeIntervalSince(expires) <= leeway else { throw .expired }
        guard let issued = claims.claims["iat"]?.numericValue, issued - now.timeIntervalSince1970 <= leeway else {
            throw .issuedInFuture
        }
        guard let nonce = claims.nonce, !expected.nonce.isEmpty, nonce == expected.nonce else { throw .claimMismatch("nonce") }
        guard let subject = claims.subject, !subject.isEmpty else { throw .claimMismatch("sub") }
        let verified: Bool
        switch claims.claims["email_verified"] {
        case .bool(let value)?: verified = value
        case .string(let text)?: verified = text == "true"
        default: verified = false
        }
        return VerifiedIDToken(
            issuer: expected.issuer,
            subject: subject,
            email: claims.email.flatMap { $0.isEmpty ? nil : $0 },
            emailVerified: verified,
            name: claims.name ?? claims.preferredUsername
        )
    }

    static func base64URLDecoded(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

/// The payload as far as the JWT library is concerned: the claims are checked by ``IDTokenVerifier`` with its clock.
private struct SignedPayload: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
