public import Foundation

/// The authorization server's settings: who it is, what it protects and how long what it issues lives.
public struct AuthServerSettings: Sendable, Equatable {
    /// The issuer: the public URL without a trailing slash, byte-identical wherever it appears.
    public var issuer: String
    /// The protected resource (the MCP endpoint), in its canonical form.
    public var resource: String { issuer + "/mcp" }
    /// How long an access token is accepted (default one hour).
    public var accessTokenLifetime: TimeInterval = 3600
    /// How long a refresh token may be used (default 30 days); each use rotates it.
    public var refreshTokenLifetime: TimeInterval = 30 * 24 * 3600
    /// How long an authorization code may be redeemed (10 minutes).
    public var codeLifetime: TimeInterval = 600
    /// A dynamic registration never used is deleted after this long (default 30 days).
    public var unusedClientLifetime: TimeInterval = 30 * 24 * 3600
    /// Whether `http` Client ID Metadata Document URLs on loopback are accepted (`--allow-private-network`).
    public var allowPrivateNetwork: Bool = false

    /// The only scope: use the MCP tools of the granted services.
    public static let toolsScope = "mcp:tools"
    public static let supportedScopes = [toolsScope]

    public init(publicURL: String) {
        var issuer = publicURL
        while issuer.hasSuffix("/") { issuer.removeLast() }
        self.issuer = issuer
    }

    public var authorizationEndpoint: String { issuer + "/oauth/authorize" }
    public var tokenEndpoint: String { issuer + "/oauth/token" }
    public var registrationEndpoint: String { issuer + "/oauth/register" }
    public var revocationEndpoint: String { issuer + "/oauth/revoke" }
    public var introspectionEndpoint: String { issuer + "/oauth/introspect" }
    /// The RFC 9728 document of the resource (path-inserted form, RFC 9728 §3.1).
    public var resourceMetadataURL: String { issuer + "/.well-known/oauth-protected-resource/mcp" }
}
