/// An RFC 6749 error: the `error` code, a plain `error_description` and the HTTP status it is answered with.
/// Descriptions never hold a secret.
public struct OAuthError: Error, Sendable, Equatable {
    public var code: String
    public var description: String
    public var status: Int

    public init(_ code: String, _ description: String, status: Int = 400) {
        self.code = code
        self.description = description
        self.status = status
    }

    public static func invalidRequest(_ description: String) -> OAuthError { OAuthError("invalid_request", description) }
    /// An unknown client or a failed client authentication: 401, so that a client may register again.
    public static func invalidClient(_ description: String) -> OAuthError { OAuthError("invalid_client", description, status: 401) }
    public static func invalidGrant(_ description: String) -> OAuthError { OAuthError("invalid_grant", description) }
    public static func invalidScope(_ description: String) -> OAuthError { OAuthError("invalid_scope", description) }
    public static func invalidTarget(_ description: String) -> OAuthError { OAuthError("invalid_target", description) }
    public static func unsupportedGrantType(_ description: String) -> OAuthError { OAuthError("unsupported_grant_type", description) }
    public static func invalidRedirectURI(_ description: String) -> OAuthError { OAuthError("invalid_redirect_uri", description) }
    public static func invalidClientMetadata(_ description: String) -> OAuthError { OAuthError("invalid_client_metadata", description) }
}
