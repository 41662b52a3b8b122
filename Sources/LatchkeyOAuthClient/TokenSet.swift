public import Foundation

/// The tokens a provider issued, as read from its token answer.
public struct TokenSet: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    public var tokenType: String?
    /// When the access token expires; nil when it does not expire or the provider did not say.
    public var expiresAt: Date?
    /// The scopes granted, split on the provider's separator (or spaces and commas); nil when the answer has none.
    public var scopes: [String]?
    public var idToken: String?
    /// The whole token answer as JSON (a form-encoded answer is converted), to be stored encrypted.
    public var raw: Data

    public init(
        accessToken: String,
        refreshToken: String? = nil,
        tokenType: String? = nil,
        expiresAt: Date? = nil,
        scopes: [String]? = nil,
        idToken: String? = nil,
        raw: Data = Data("{}".utf8)
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.idToken = idToken
        self.raw = raw
    }

    /// A scalar of the raw answer at a dotted path (Salesforce's `instance_url`, Slack's `team.id`); numbers as text.
    public func field(_ dottedPath: String) -> String? {
        JSONValue.parse(raw)?.value(at: dottedPath)?.scalarString
    }
}

/// The claims of an id_token that Latchkey reads.
///
/// The signature is not checked: the token came straight from the provider's token endpoint over TLS, in answer to
/// Latchkey's own authenticated request, which OpenID Connect Core §3.1.3.7 accepts in place of a signature check.
/// Never use this for an id_token received from anyone else.
public struct IDTokenClaims: Sendable, Equatable {
    public var issuer: String?
    public var subject: String?
    public var audience: [String]
    public var nonce: String?
    public var email: String?
    public var name: String?
    public var preferredUsername: String?
    public var expiresAt: Date?
    /// Every claim, for fields not named above.
    public var claims: JSONValue

    /// Decodes the payload of a compact JWS; throws `malformedResponse` when it is not one.
    public static func decode(_ idToken: String) throws(OAuthClientError) -> IDTokenClaims {
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Data(base64URLEncoded: String(parts[1])), let claims = JSONValue.parse(payload),
            case .object = claims
        else { throw .malformedResponse("the id_token is not a JWT") }
        var audience: [String] = []
        switch claims["aud"] {
        case .string(let value): audience = [value]
        case .array(let values): audience = values.compactMap(\.scalarString)
        default: break
        }
        return IDTokenClaims(
            issuer: claims["iss"]?.scalarString,
            subject: claims["sub"]?.scalarString,
            audience: audience,
            nonce: claims["nonce"]?.scalarString,
            email: claims["email"]?.scalarString,
            name: claims["name"]?.scalarString,
            preferredUsername: claims["preferred_username"]?.scalarString,
            expiresAt: claims["exp"]?.numericValue.map { Date(timeIntervalSince1970: $0) },
            claims: claims
        )
    }

    /// Checks the claims Latchkey can know in advance; each nil expectation is skipped.
    /// Throws `idTokenMismatch` naming the claim at fault: `iss`, `aud` or `nonce`.
    public func check(issuer expectedIssuer: String?, clientID: String?, nonce expectedNonce: String?) throws(OAuthClientError) {
        if let expectedIssuer, issuer != expectedIssuer { throw .idTokenMismatch("iss") }
        if let clientID, !audience.contains(clientID) { throw .idTokenMismatch("aud") }
        if let expectedNonce, nonce != expectedNonce { throw .idTokenMismatch("nonce") }
    }
}
