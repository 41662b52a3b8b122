import Foundation
public import LatchkeyProviders

/// Turns a catalog entry (or a generic provider's integration settings) into concrete ``OAuthEndpoints``.
public enum EndpointResolver {
    /// The placeholder for the OAuth client id in grant-deletion URLs, as it appears in a resolved URL.
    public static let clientIDPlaceholder = "%7Bclient_id%7D"

    /// Catalog providers: URLs from the catalog with `{name}` placeholders filled from `templateValues` (the default
    /// value when one is missing; values checked against the parameter's pattern, and never able to add a host,
    /// path, query or fragment). Generic `oauth2`: from `settings` (authorizationURL, tokenURL, revocationURL?,
    /// userInfoURL?, apiBaseURL?). Generic `oidc`: from the `settings` written after discovery (issuer,
    /// authorizationURL, tokenURL, revocationURL?, userInfoURL?, apiBaseURL?, and `issParameterSupported` when the
    /// document says the provider sends `iss` on authorization responses, RFC 9207). A catalog entry's
    /// `authorizationResponseIssuer` gives the issuer and requires `iss` likewise.
    ///
    /// ``OAuthEndpoints/apiBaseURL`` is nil while a value it needs comes from a token answer not yet received
    /// (Salesforce's `instance_url`): resolve again with ``tokenResponseValues(provider:tokens:)``.
    public static func resolve(
        provider: Provider,
        settings: [String: String],
        templateValues: [String: String]
    ) throws(OAuthClientError) -> OAuthEndpoints {
        guard let oauth = provider.oauth else { throw .missingSetting("oauth") }
        if oauth.configurableEndpoints == true {
            return try resolveConfigured(provider: provider, settings: settings)
        }
        let filler = TemplateFiller(parameters: provider.templateParameters ?? [:], values: templateValues)
        guard let tokenTemplate = oauth.tokenURL?.url else { throw .missingSetting("tokenURL") }
        let tokenURL = try filler.url(tokenTemplate, setting: "tokenURL")
        // Client-credentials providers have no authorization URL; the token URL stands in and is never used for it.
        let authorizationURL =
            try oauth.authorizationURL.map { u throws(OAuthClientError) in try filler.url(u.url, setting: "authorizationURL") } ?? tokenURL
        var revocationURL: URL?
        if let template = oauth.revocationURL?.url {
            revocationURL = try filler.url(template, setting: "revocationURL", keeping: oauth.revocationStyle == .deleteGrant ? ["client_id"] : [])
        }
        let userInfoURL = try oauth.userInfoURL.map { u throws(OAuthClientError) in try filler.url(u.url, setting: "userInfoURL") }
        let apiBaseURL = try? filler.url(provider.proxyBaseURL ?? "", setting: "proxyBaseURL")
        return OAuthEndpoints(
            authorizationURL: authorizationURL,
            tokenURL: tokenURL,
            revocationURL: revocationURL,
            userInfoURL: userInfoURL,
            issuer: oauth.authorizationResponseIssuer?.url,
            requiresIssuerParameter: oauth.authorizationResponseIssuer != nil,
            apiBaseURL: apiBaseURL
        )
    }

    /// The values of the provider's `token_response` template parameters found in a token answer
    /// (Salesforce's `instance_url`, Pipedrive's `api_domain`), to store on the credential and pass to ``resolve``.
    public static func tokenResponseValues(provider: Provider, tokens: TokenSet) -> [String: String] {
        var values: [String: String] = [:]
        for (name, parameter) in provider.templateParameters ?? [:] where parameter.source == .tokenResponse {
            if let value = tokens.field(name) { values[name] = value }
        }
        return values
    }

    private static func resolveConfigured(provider: Provider, settings: [String: String]) throws(OAuthClientError) -> OAuthEndpoints {
        func required(_ key: String) throws(OAuthClientError) -> URL {
            guard let value = settings[key], !value.isEmpty else { throw .missingSetting(key) }
            return try configuredURL(value, key: key)
        }
        func optional(_ key: String) throws(OAuthClientError) -> URL? {
            guard let value = settings[key], !value.isEmpty else { return nil }
            return try configuredURL(value, key: key)
        }
        var issuer: String?
        if provider.id == "oidc" || provider.integrationSettings?["discoveryURL"] != nil {
            guard let value = settings["issuer"], !value.isEmpty else { throw .missingSetting("issuer") }
            issuer = value
        }
        return OAuthEndpoints(
            authorizationURL: try required("authorizationURL"),
            tokenURL: try required("tokenURL"),
            revocationURL: try optional("revocationURL"),
            userInfoURL: try optional("userInfoURL"),
            issuer: issuer,
            requiresIssuerParameter: settings[OIDCDiscovery.issuerParameterSetting] == "true",
            apiBaseURL: try optional("apiBaseURL")
        )
    }

    /// An admin-set URL: http(s) with a host and no user info. Whether plain http and private hosts may be
    /// called is for ``OutboundPolicy`` to decide at call time.
    private static func configuredURL(_ value: String, key: String) throws(OAuthClientError) -> URL {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil
        else { throw .missingSetting(key) }
        return url
    }
}

/// Fills `{name}` placeholders with checked values.
struct TemplateFiller {
    let parameters: [String: TemplateParameter]
    let values: [String: String]

    /// Characters no value may contain, whatever the catalog's pattern says: they could change the host, path,
    /// query or fragment of the URL.
    private static let forbidden = CharacterSet(charactersIn: "/?#@:\\%[]{}<>\"'`^| ").union(.whitespacesAndNewlines).union(.controlCharacters)

    func url(_ template: String, setting: String, keeping kept: Set<String> = []) throws(OAuthClientError) -> URL {
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { throw .missingSetting(setting) }
            let name = String(rest[rest.index(after: open)..<close])
            rest = rest[rest.index(after: close)...]
            if kept.contains(name) {
                result += "%7B\(name)%7D"
                continue
            }
            result += try value(of: name, atStart: result.isEmpty)
        }
        result += rest
        guard let url = URL(string: result), url.scheme == "https", let host = url.host, !host.isEmpty, url.user == nil else {
            throw .missingSetting(setting)
        }
        return url
    }

    private func value(of name: String, atStart: Bool) throws(OAuthClientError) -> String {
        guard let parameter = parameters[name] else { throw .missingSetting(name) }
        guard let value = values[name].flatMap({ $0.isEmpty ? nil : $0 }) ?? parameter.defaultValue else { throw .missingSetting(name) }
        if parameter.source == .tokenResponse, atStart {
            // A whole origin read from the token answer (Salesforce's instance_url): https, a host, nothing else.
            guard let url = URL(string: value), url.scheme == "https", let host = url.host, !host.isEmpty, url.user == nil,
                url.password == nil, url.query == nil, url.fragment == nil, url.path.isEmpty || url.path == "/",
                !host.unicodeScalars.contains(where: { Self.forbidden.contains($0) })
            else { throw .missingSetting(name) }
            return "https://\(host)" + (url.port.map { ":\($0)" } ?? "")
        }
        guard !value.unicodeScalars.contains(where: { Self.forbidden.contains($0) || !$0.isASCII }), value != ".", value != ".." else {
            throw .missingSetting(name)
        }
        if let pattern = parameter.pattern {
            guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$"),
                regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
            else { throw .missingSetting(name) }
        }
        return value
    }
}
