/// The body of a successful `/oauth/token` answer (RFC 6749 §5.1).
public struct TokenResponse: Encodable, Sendable, Equatable {
    public var accessToken: String
    public var tokenType = "Bearer"
    public var expiresIn: Int
    public var refreshToken: String
    public var scope: String

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case scope
    }
}

/// How a client authenticated at the token, revocation or introspection endpoint: HTTP Basic or form fields.
public struct ClientCredentials: Sendable, Equatable {
    public var clientID: String
    public var secret: String?
    /// Whether they came in the `Authorization: Basic` header.
    public var basic: Bool

    public init(clientID: String, secret: String?, basic: Bool) {
        self.clientID = clientID
        self.secret = secret
        self.basic = basic
    }
}
