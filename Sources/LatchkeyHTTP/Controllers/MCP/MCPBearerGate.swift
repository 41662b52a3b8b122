import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyMCP
import Logging

/// The bearer-token check in front of every `/mcp` method (RFC 6750, RFC 9728): the token only in the
/// `Authorization` header, checked by the verifier, for the MCP resource, with the `mcp:tools` scope. Refusals carry
/// the `WWW-Authenticate` challenge that leads a client to the protected-resource metadata. The token is never
/// logged or passed on.
struct MCPBearerGate: Sendable {
    let verifier: any MCPTokenVerifier
    /// `{publicURL}/.well-known/oauth-protected-resource/mcp`.
    let resourceMetadataURL: String
    /// The scope a token needs for `/mcp`.
    let requiredScope: String
    let logger: Logger

    init(verifier: any MCPTokenVerifier, publicURL: String, requiredScope: String = "mcp:tools", logger: Logger) {
        self.verifier = verifier
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        resourceMetadataURL = base + "/.well-known/oauth-protected-resource/mcp"
        self.requiredScope = requiredScope
        self.logger = logger
    }

    /// The principal of `request`, or the refusal to send.
    func principal(of request: Request) async -> Result<MCPPrincipal, MCPRefusal> {
        if request.uri.queryParameters["access_token"] != nil {
            return .failure(
                challenge(
                    .badRequest,
                    error: "invalid_request",
                    "An access token in the URL is refused: send it only in the Authorization header (Bearer)."
                )
            )
        }
        let values = request.headers[values: .authorization]
        guard values.count <= 1 else {
            return .failure(challenge(.badRequest, error: "invalid_request", "Send one Authorization header, not several."))
        }
        guard let header = values.first, header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            return .failure(challenge(.unauthorized, error: nil, "This endpoint needs an OAuth access token: sign in through your MCP client."))
        }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else {
            return .failure(challenge(.unauthorized, error: "invalid_token", "The access token is empty."))
        }
        let check: MCPTokenCheck
        do {
            check = try await verifier.verify(bearer: token)
        } catch {
            logger.error("MCP access token check failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return .failure(
                MCPRefusal(
                    response: MCPHTTPReply.error(.serviceUnavailable, "The access token cannot be checked right now. Try again in a moment.")
                )
            )
        }
        switch check {
        case .invalid:
            return .failure(challenge(.unauthorized, error: "invalid_token", "The access token is unknown, expired or revoked. Sign in again."))
        case .otherResource:
            return .failure(
                challenge(.unauthorized, error: "invalid_token", "The access token was issued for another resource, not for this MCP endpoint.")
            )
        case .valid(let principal):
            guard principal.scopes.contains(requiredScope) else {
                return .failure(
                    challenge(
                        .forbidden,
                        error: "insufficient_scope",
                        "The access token does not allow \(requiredScope). Authorize the client again."
                    )
                )
            }
            return .success(principal)
        }
    }

    /// A refusal with the `Bearer` challenge: `error` is left out when no token was sent at all.
    func challenge(_ status: HTTPResponse.Status, error: String?, _ message: String) -> MCPRefusal {
        MCPRefusal(response: MCPHTTPReply.error(status, message, headers: [MCPHTTPReply.wwwAuthenticate: header(error: error, message)]))
    }

    /// The `WWW-Authenticate` value: `Bearer error=…, error_description=…, resource_metadata=…, scope=…`.
    func header(error: String?, _ message: String) -> String {
        var parameters: [String] = []
        if let error {
            parameters.append("error=\"\(error)\"")
            parameters.append("error_description=\"\(message.replacingOccurrences(of: "\"", with: "'"))\"")
        }
        parameters.append("resource_metadata=\"\(resourceMetadataURL)\"")
        parameters.append("scope=\"\(requiredScope)\"")
        return "Bearer " + parameters.joined(separator: ", ")
    }
}

/// An HTTP answer that ends a request early.
struct MCPRefusal: Error {
    var response: Response
}
