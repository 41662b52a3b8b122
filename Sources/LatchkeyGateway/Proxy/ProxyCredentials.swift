import Foundation
public import LatchkeyProviders

/// How a credential's secret is put on a proxied call, the provider's way: the catalog's token header and format
/// for OAuth tokens (`Authorization: Bearer …` unless it says otherwise), the key's header and format for API keys,
/// HTTP basic authentication for user names and passwords. Pure.
public enum ProxyCredentials {
    /// The headers carrying `secret` for `provider`, followed by the catalog's fixed request headers (API version
    /// pins and the like) that the caller did not set itself.
    public static func headers(
        for secret: CredentialResolver.Secret,
        provider: Provider,
        callerHeaders: [(name: String, value: String)]
    ) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        switch secret {
        case .oauth(let accessToken, let tokenType):
            let name = provider.oauth?.accessTokenHeader ?? "Authorization"
            if let format = provider.oauth?.accessTokenFormat {
                headers.append((name: name, value: format.replacingOccurrences(of: "{accessToken}", with: accessToken)))
            } else {
                headers.append((name: name, value: tokenType + " " + accessToken))
            }
        case .apiKey(let key):
            let settings = provider.apiKey
            let name = settings?.headerName ?? "Authorization"
            let format = settings?.format ?? "Bearer {apiKey}"
            headers.append((name: name, value: format.replacingOccurrences(of: "{apiKey}", with: key)))
        case .basic(let username, let password):
            headers.append((name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()))
        }
        guard let fixed = provider.requestHeaders, !fixed.isEmpty else { return headers }
        let injected = Set(headers.map { $0.name.lowercased() })
        let present = Set(callerHeaders.map { $0.name.lowercased() })
        for (name, value) in fixed.sorted(by: { $0.key < $1.key })
        where !present.contains(name.lowercased()) && !injected.contains(name.lowercased()) {
            headers.append((name: name, value: value))
        }
        return headers
    }
}
