import Foundation
public import LatchkeyCore
public import LatchkeyProviders

/// Whether a credential's granted scopes let a tool work, and where the person goes to grant more.
public enum ToolScopes {
    /// The tool's scopes when the credential is known to hold none of them (any one is enough); nil when it holds
    /// one, when the tool needs none, or when the credential records no scopes (an imported token or an API key,
    /// whose permissions Latchkey cannot see: the provider decides).
    public static func missing(for tool: Tool, credential: Credential) -> [String]? {
        guard !tool.scopes.isEmpty, credential.type == .oauth2, !credential.scopes.isEmpty else { return nil }
        let granted = Set(credential.scopes)
        return tool.scopes.contains(where: granted.contains) ? nil : tool.scopes
    }

    /// Where `credential` is connected again, as an absolute URL on `publicURL` (no trailing slash).
    ///
    /// A person's own credential (the console app) and a shared credential go to the Connection Center, which
    /// offers the reconnect of that credential asking for `scopes` too; an app's end user gets a reconnect session
    /// of their Connection (`POST …/reconnect`), whose page the app sends them to.
    public static func reconnectURL(for credential: Credential, appID: String?, publicURL: String, scopes: [String]) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/")
        if appID != nil, let external = credential.externalUserID {
            let user = external.addingPercentEncoding(withAllowedCharacters: allowed) ?? external
            return publicURL + "/api/v1/connect/users/\(user)/connections/\(credential.connectionID)/reconnect"
        }
        var url = publicURL + "/connections?reconnect=\(credential.id)"
        if !scopes.isEmpty {
            url += "&scopes=" + ToolCall.encode(scopes.joined(separator: " "))
        }
        return url
    }
}
