/// Who an MCP request acts for: the person who granted the client access, and what they granted.
public struct MCPPrincipal: Sendable, Equatable {
    public var tenantID: String
    /// The console user; tools run as the end user of the console app whose external id is this id.
    public var userID: String
    /// The OAuth client the token was issued to.
    public var clientID: String
    /// The grant (consent) the token belongs to.
    public var grantID: String
    /// OAuth scopes of the token, e.g. `mcp:tools`.
    public var scopes: [String]
    /// Integration keys of the services the person granted; only their tools are listed and called.
    public var services: [String]

    public init(tenantID: String, userID: String, clientID: String, grantID: String, scopes: [String], services: [String]) {
        self.tenantID = tenantID
        self.userID = userID
        self.clientID = clientID
        self.grantID = grantID
        self.scopes = scopes
        self.services = services
    }
}

/// What checking a bearer token found.
public enum MCPTokenCheck: Sendable, Equatable {
    /// A live token for the MCP endpoint.
    case valid(MCPPrincipal)
    /// Unknown, expired or revoked.
    case invalid
    /// A live token, but issued for another resource (audience) than the MCP endpoint.
    case otherResource
}

/// Checks the access tokens MCP clients send. The authorization server provides the real one; the token is only
/// looked up, never forwarded or logged.
public protocol MCPTokenVerifier: Sendable {
    /// What `token` (the bearer value, without the scheme) is.
    func verify(bearer token: String) async throws -> MCPTokenCheck
}

/// A verifier that accepts no token: the endpoint answers every request with 401 until a real verifier is given.
public struct RefusingTokenVerifier: MCPTokenVerifier {
    public init() {}

    public func verify(bearer token: String) async throws -> MCPTokenCheck { .invalid }
}
