import LatchkeyAuthServer
import LatchkeyMCP

/// The `/mcp` endpoint's token check, answered by the authorization server: an access token it issued, not expired
/// or revoked (nor its grant), bound to this server's `/mcp` resource. A token bound to another resource is told apart
/// so the endpoint can say so; the token itself is never kept or logged here.
struct AuthServerTokenVerifier: MCPTokenVerifier {
    let server: AuthorizationServer
    /// The canonical `/mcp` URL tokens must be bound to.
    let resource: String

    func verify(bearer token: String) async throws -> MCPTokenCheck {
        guard let verified = try await server.verifyAccessToken(token) else { return .invalid }
        guard verified.resource == resource else { return .otherResource }
        return .valid(
            MCPPrincipal(
                tenantID: verified.tenantID,
                userID: verified.userID,
                clientID: verified.clientID,
                grantID: verified.grantID,
                scopes: verified.scopes,
                services: verified.services
            )
        )
    }
}
