/// The OpenAPI 3.1 description of `/api/v1`, served at `/openapi.json` and printed by `latchkey openapi`.
/// Kept in Swift so that the binary carries it; a test checks it against the router in both directions.
public enum OpenAPIDocument {
    /// The whole document.
    public static let json = "{" + String(header.dropFirst().dropLast()) + #", "paths": "# + paths + #", "components": "# + components + "}"

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
                  {"name": "Audit", "description": "The tenant's hash-chained audit log."}
                ]
        }
        """#
}
