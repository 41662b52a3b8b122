import Foundation
public import LatchkeyStorage

/// The parameters of a request to `/oauth/authorize` (the query of the GET, the hidden fields of the consent form).
public struct AuthorizationRequest: Sendable, Equatable {
    public static let fieldNames = [
        "client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "resource", "scope",
    ]
    /// The fields, by name; absent ones are missing.
    public var fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields.filter { Self.fieldNames.contains($0.key) }
    }

    public subscript(_ name: String) -> String? { fields[name] }
}

/// A checked authorization request, ready for the consent page.
public struct ValidAuthorization: Sendable, Equatable {
    public var client: OAuthClientRecord
    /// The redirect URI as requested (a loopback one may carry another port than registered).
    public var redirectURI: String
    public var state: String?
    public var codeChallenge: String
    /// The canonical resource.
    public var resource: String
    public var scopes: [String]

    /// The host the person will be sent back to.
    public var redirectHost: String { URLComponents(string: redirectURI)?.host ?? redirectURI }
    /// Whether every redirect of the client is on this computer (a local app, or someone pretending to be one).
    public var isLoopbackOnly: Bool {
        client.redirectURIs.allSatisfy { URLComponents(string: $0).flatMap(\.host).map(RedirectURIRules.isLoopback(host:)) ?? false }
    }
    /// The client's name as it registered it, or the redirect host.
    public var displayName: String { client.name ?? redirectHost }
}

/// What `/oauth/authorize` does with a request.
public enum AuthorizationCheck: Sendable, Equatable {
    /// The client or its redirect URI cannot be trusted: say so on a page, never redirect.
    case errorPage(String)
    /// A problem to report back to the client: redirect there (the URL carries `error`, `state` and `iss`).
    case redirect(String)
    /// Ask the person.
    case consent(ValidAuthorization)
}
