public import Foundation

/// The parts of an OpenID Connect discovery document Latchkey uses.
public struct OIDCDiscovery: Sendable, Equatable {
    public var issuer: String
    public var authorizationURL: URL
    public var tokenURL: URL
    public var revocationURL: URL?
    public var userInfoURL: URL?
    /// `authorization_response_iss_parameter_supported` (RFC 9207): every authorization response carries `iss`.
    public var sendsIssuerParameter: Bool

    /// The integration setting that keeps ``sendsIssuerParameter`` (`"true"` when set).
    public static let issuerParameterSetting = "issParameterSupported"

    public init(
        issuer: String,
        authorizationURL: URL,
        tokenURL: URL,
        revocationURL: URL? = nil,
        userInfoURL: URL? = nil,
        sendsIssuerParameter: Bool = false
    ) {
        self.issuer = issuer
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.revocationURL = revocationURL
        self.userInfoURL = userInfoURL
        self.sendsIssuerParameter = sendsIssuerParameter
    }

    /// The integration settings ``EndpointResolver`` reads for the generic `oidc` provider.
    public var settings: [String: String] {
        var settings = ["issuer": issuer, "authorizationURL": authorizationURL.absoluteString, "tokenURL": tokenURL.absoluteString]
        if let revocationURL { settings["revocationURL"] = revocationURL.absoluteString }
        if let userInfoURL { settings["userInfoURL"] = userInfoURL.absoluteString }
        if sendsIssuerParameter { settings[Self.issuerParameterSetting] = "true" }
        return settings
    }

    init(document: JSONValue, discoveryURL: URL) throws(OAuthClientError) {
        func url(_ key: String) throws(OAuthClientError) -> URL? {
            guard let value = document[key] else { return nil }
            guard case .string(let text) = value, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                scheme == "https" || scheme == "http", url.host?.isEmpty == false
            else { throw .malformedResponse("\(key) in the discovery document is not a URL") }
            return url
        }
        guard case .string(let issuer)? = document["issuer"], !issuer.isEmpty else {
            throw .malformedResponse("the discovery document has no issuer")
        }
        let suffix = "/.well-known/openid-configuration"
        let discovery = discoveryURL.absoluteString
        if discovery.hasSuffix(suffix) {
            let expected = String(discovery.dropLast(suffix.count))
            guard Self.trimmed(issuer) == Self.trimmed(expected) else {
                throw .malformedResponse("the discovery document names a different issuer")
            }
        }
        guard let authorizationURL = try url("authorization_endpoint") else {
            throw .malformedResponse("the discovery document has no authorization_endpoint")
        }
        guard let tokenURL = try url("token_endpoint") else { throw .malformedResponse("the discovery document has no token_endpoint") }
        self.init(
            issuer: issuer,
            authorizationURL: authorizationURL,
            tokenURL: tokenURL,
            revocationURL: try url("revocation_endpoint"),
            userInfoURL: try url("userinfo_endpoint"),
            sendsIssuerParameter: document["authorization_response_iss_parameter_supported"] == .bool(true)
        )
    }

    private static func trimmed(_ text: String) -> String {
        text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
