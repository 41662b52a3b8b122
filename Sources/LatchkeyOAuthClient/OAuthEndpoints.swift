public import Foundation

/// The URLs of one provider for one integration (and, for templated providers, one credential).
public struct OAuthEndpoints: Sendable, Equatable, Codable {
    public var authorizationURL: URL
    public var tokenURL: URL
    /// Where tokens are revoked. For grant deletion it may hold the placeholder `{client_id}` (percent-encoded),
    /// filled at revocation time.
    public var revocationURL: URL?
    public var userInfoURL: URL?
    /// The expected `iss` on callbacks and in id_tokens, when known (OIDC).
    public var issuer: String?
    /// RFC 9207: the provider says it puts `iss` on every authorization response
    /// (`authorization_response_iss_parameter_supported` in its metadata, or the catalog entry), so a callback
    /// without one is refused. Only meaningful with ``issuer``.
    public var requiresIssuerParameter: Bool
    /// Base for relative identity and probe paths (the catalog's proxyBaseURL or the integration's apiBaseURL).
    public var apiBaseURL: URL?

    public init(
        authorizationURL: URL,
        tokenURL: URL,
        revocationURL: URL? = nil,
        userInfoURL: URL? = nil,
        issuer: String? = nil,
        requiresIssuerParameter: Bool = false,
        apiBaseURL: URL? = nil
    ) {
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.revocationURL = revocationURL
        self.userInfoURL = userInfoURL
        self.issuer = issuer
        self.requiresIssuerParameter = requiresIssuerParameter && issuer != nil
        self.apiBaseURL = apiBaseURL
    }

    /// `path` resolved against ``apiBaseURL`` when it starts with `/`, or taken as it is when absolute.
    public func apiURL(_ path: String) -> URL? {
        if path.hasPrefix("/") {
            guard let base = apiBaseURL else { return nil }
            var text = base.absoluteString
            while text.hasSuffix("/") { text.removeLast() }
            return URL(string: text + path)
        }
        guard let url = URL(string: path), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http" else { return nil }
        return url
    }
}
