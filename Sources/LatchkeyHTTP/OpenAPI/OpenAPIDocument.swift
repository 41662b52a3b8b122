import Foundation

/// The OpenAPI 3.1 description of `/api/v1`, served at `/openapi.json` and printed by `latchkey openapi`.
/// Kept in Swift so that the binary carries it; a test checks it against the router in both directions.
public enum OpenAPIDocument {
    /// The whole document.
    public static let json =
        "{" + String(header.dropFirst().dropLast()) + #", "paths": "# + merged(merged(paths, integrationPaths), webhookPaths) + #", "components": "#
        + components.replacingOccurrences(
            of: #""schemas": {"#,
            with: #""schemas": "# + String(merged(merged(credentialSchemas, integrationSchemas), webhookSchemas).dropLast()) + ","
        )
        + "}"

    /// Two JSON objects' members in one object (the texts are trimmed of their outer braces and joined).
    static func merged(_ first: String, _ second: String) -> String {
        let a = first.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst().dropLast().trimmingCharacters(in: .whitespacesAndNewlines)
        let b = second.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst().dropLast().trimmingCharacters(in: .whitespacesAndNewlines)
        return "{" + [a, b].filter { !$0.isEmpty }.joined(separator: ", ") + "}"
    }

    /// Version, info, servers, security and tags.
    static let header = #"""
        {
          "openapi": "3.1.0",
          "info": {
                  "title": "Latchkey API",
                  "version": "0.1.0",
                  "description": "Latchkey is a self-hosted credential vault: it stores OAuth tokens, API keys and username/password pairs encrypted at rest, hands them out only when asked to reveal them, and records every access in a tamper-evident audit log. The admin endpoints under `/api/v1` authenticate with a tenant admin key sent as `Authorization: Bearer lk_live_…`. Every error is a JSON object with a stable `code`, a plain-language `message` and the `requestId` of the request."
                },
          "servers": [{"url": "/"}],
          "security": [{"bearerAuth": []}],
          "tags": [
                  {"name": "Credentials", "description": "Stored credentials and their secrets."},
                  {"name": "Audit", "description": "The tenant's hash-chained audit log."},
                  {"name": "Integrations", "description": "The providers a tenant offers, with its OAuth clients."},
                  {"name": "Webhooks", "description": "Signed notifications of credential and connection changes, with delivery history."}
                ]
        }
        """#
}
