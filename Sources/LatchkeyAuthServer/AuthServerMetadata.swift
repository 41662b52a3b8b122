/// The RFC 8414 authorization server metadata (also served as `openid-configuration`). Advertises only what is
/// implemented.
public struct AuthorizationServerMetadata: Codable, Sendable, Equatable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var registrationEndpoint: String
    public var revocationEndpoint: String
    public var introspectionEndpoint: String
    public var responseTypesSupported: [String]
    public var responseModesSupported: [String]
    public var grantTypesSupported: [String]
    public var codeChallengeMethodsSupported: [String]
    public var tokenEndpointAuthMethodsSupported: [String]
    public var revocationEndpointAuthMethodsSupported: [String]
    public var scopesSupported: [String]
    public var clientIDMetadataDocumentSupported: Bool
    public var authorizationResponseIssParameterSupported: Bool

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case registrationEndpoint = "registration_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case introspectionEndpoint = "introspection_endpoint"
        case responseTypesSupported = "response_types_supported"
        case responseModesSupported = "response_modes_supported"
        case grantTypesSupported = "grant_types_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
        case scopesSupported = "scopes_supported"
        case clientIDMetadataDocumentSupported = "client_id_metadata_document_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
    }

    public init(settings: AuthServerSettings) {
        issuer = settings.issuer
        authorizationEndpoint = settings.authorizationEndpoint
        tokenEndpoint = settings.tokenEndpoint
        registrationEndpoint = settings.registrationEndpoint
        revocationEndpoint = settings.revocationEndpoint
        introspectionEndpoint = settings.introspectionEndpoint
        responseTypesSupported = ["code"]
        responseModesSupported = ["query"]
        grantTypesSupported = ClientRegistrationRequest.supportedGrantTypes
        codeChallengeMethodsSupported = ["S256"]
        tokenEndpointAuthMethodsSupported = ClientRegistrationRequest.supportedAuthMethods
        revocationEndpointAuthMethodsSupported = ClientRegistrationRequest.supportedAuthMethods
        scopesSupported = AuthServerSettings.supportedScopes
        clientIDMetadataDocumentSupported = true
        authorizationResponseIssParameterSupported = true
    }
}

/// The RFC 9728 protected resource metadata of the MCP endpoint.
public struct ProtectedResourceMetadata: Codable, Sendable, Equatable {
    public var resource: String
    public var authorizationServers: [String]
    public var scopesSupported: [String]
    public var bearerMethodsSupported: [String]
    public var resourceName: String

    enum CodingKeys: String, CodingKey {
        case resource
        case authorizationServers = "authorization_servers"
        case scopesSupported = "scopes_supported"
        case bearerMethodsSupported = "bearer_methods_supported"
        case resourceName = "resource_name"
    }

    public init(settings: AuthServerSettings) {
        resource = settings.resource
        authorizationServers = [settings.issuer]
        scopesSupported = AuthServerSettings.supportedScopes
        bearerMethodsSupported = ["header"]
        resourceName = "Latchkey"
    }
}
