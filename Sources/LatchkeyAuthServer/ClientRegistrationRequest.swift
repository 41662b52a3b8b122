import Foundation

/// An RFC 7591 registration request, as sent to `/oauth/register`. Fields the server does not know are ignored
/// (RFC 7591 §2); what it keeps is checked by ``validated()``.
public struct ClientRegistrationRequest: Decodable, Sendable, Equatable {
    public var redirectURIs: [String]?
    public var clientName: String?
    public var clientURI: String?
    public var logoURI: String?
    public var tokenEndpointAuthMethod: String?
    public var grantTypes: [String]?
    public var responseTypes: [String]?
    public var applicationType: String?
    public var scope: String?

    public static let supportedGrantTypes = ["authorization_code", "refresh_token"]
    public static let supportedAuthMethods = ["none", "client_secret_basic", "client_secret_post"]
    public static let maxRedirectURIs = 10
    public static let maxNameLength = 200

    enum CodingKeys: String, CodingKey {
        case redirectURIs = "redirect_uris"
        case clientName = "client_name"
        case clientURI = "client_uri"
        case logoURI = "logo_uri"
        case tokenEndpointAuthMethod = "token_endpoint_auth_method"
        case grantTypes = "grant_types"
        case responseTypes = "response_types"
        case applicationType = "application_type"
        case scope
    }

    public init(
        redirectURIs: [String]?,
        clientName: String? = nil,
        clientURI: String? = nil,
        logoURI: String? = nil,
        tokenEndpointAuthMethod: String? = nil,
        grantTypes: [String]? = nil,
        responseTypes: [String]? = nil,
        applicationType: String? = nil,
        scope: String? = nil
    ) {
        self.redirectURIs = redirectURIs
        self.clientName = clientName
        self.clientURI = clientURI
        self.logoURI = logoURI
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.grantTypes = grantTypes
        self.responseTypes = responseTypes
        self.applicationType = applicationType
        self.scope = scope
    }

    /// What a valid request registers.
    public struct Valid: Sendable, Equatable {
        public var redirectURIs: [String]
        public var clientName: String?
        public var clientURI: String?
        public var logoURI: String?
        public var authMethod: String
        public var grantTypes: [String]
        public var applicationType: String
        /// Whether the client gets a secret (any method but `none`).
        public var isConfidential: Bool { authMethod != "none" }
    }

    /// The request checked: redirect URIs (https or loopback, no fragment or user info, at most 10), the
    /// authentication method, grant and response types, the application type and the sizes of names and links.
    public func validated() throws(OAuthError) -> Valid {
        guard let uris = redirectURIs, !uris.isEmpty else { throw .invalidRedirectURI("Register at least one redirect URI (redirect_uris).") }
        guard uris.count <= Self.maxRedirectURIs else { throw .invalidRedirectURI("Register at most \(Self.maxRedirectURIs) redirect URIs.") }
        for uri in uris {
            if let problem = RedirectURIRules.problem(uri) { throw .invalidRedirectURI(problem) }
        }
        let method = tokenEndpointAuthMethod ?? "client_secret_basic"
        guard Self.supportedAuthMethods.contains(method) else {
            throw .invalidClientMetadata(
                "token_endpoint_auth_method must be one of \(Self.supportedAuthMethods.joined(separator: ", "))."
            )
        }
        let grants = grantTypes ?? ["authorization_code"]
        guard !grants.isEmpty, grants.allSatisfy(Self.supportedGrantTypes.contains) else {
            throw .invalidClientMetadata("grant_types may only hold authorization_code and refresh_token.")
        }
        guard (responseTypes ?? ["code"]).allSatisfy({ $0 == "code" }) else {
            throw .invalidClientMetadata("response_types may only hold code.")
        }
        let allLoopback = uris.allSatisfy { URLComponents(string: $0)?.scheme == "http" }
        let type = applicationType ?? (allLoopback ? "native" : "web")
        guard type == "web" || type == "native" else { throw .invalidClientMetadata("application_type must be web or native.") }
        let name = clientName?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (name?.count ?? 0) <= Self.maxNameLength else {
            throw .invalidClientMetadata("client_name is longer than \(Self.maxNameLength) characters.")
        }
        for (field, link) in [("client_uri", clientURI), ("logo_uri", logoURI)] {
            guard let link else { continue }
            guard link.count <= RedirectURIRules.maxLength, URLComponents(string: link)?.scheme == "https" else {
                throw .invalidClientMetadata("\(field) must be an https URL of at most \(RedirectURIRules.maxLength) characters.")
            }
        }
        return Valid(
            redirectURIs: uris,
            clientName: name.flatMap { $0.isEmpty ? nil : $0 },
            clientURI: clientURI,
            logoURI: logoURI,
            authMethod: method,
            grantTypes: grants,
            applicationType: type
        )
    }
}
