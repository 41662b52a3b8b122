public import Foundation
public import LatchkeyProviders

/// The OAuth client Latchkey acts as at a provider: the integration's or an app's own.
public struct OAuthClientCredentials: Sendable, Equatable {
    public var clientID: String
    /// Nil for a public client, which sends only its id.
    public var clientSecret: String?
    public var method: ClientAuthMethod

    public init(clientID: String, clientSecret: String?, method: ClientAuthMethod) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.method = method
    }
}

/// The URL a person is sent to in order to grant access (RFC 6749 §4.1.1, RFC 7636 §4.3).
public struct AuthorizationRequest: Sendable {
    public var provider: Provider
    public var endpoints: OAuthEndpoints
    public var clientID: String
    public var redirectURI: String
    public var scopes: [String]
    public var state: String
    public var codeChallenge: String?
    public var nonce: String?

    public init(
        provider: Provider,
        endpoints: OAuthEndpoints,
        clientID: String,
        redirectURI: String,
        scopes: [String],
        state: String,
        codeChallenge: String?,
        nonce: String?
    ) {
        self.provider = provider
        self.endpoints = endpoints
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.state = state
        self.codeChallenge = codeChallenge
        self.nonce = nonce
    }

    /// `response_type=code`, `client_id`, `redirect_uri`, the scope parameter (the provider's `scopeParameter`, else
    /// `scope`; joined by its separator; left out when there are no scopes), `state`, `code_challenge` with
    /// `code_challenge_method=S256` when a challenge is given, `nonce` when given, then the provider's
    /// `authorizationParams` (sorted by name). Query items already on the authorization URL are kept.
    public var url: URL {
        let oauth = provider.oauth
        var items: [(String, String)] = [
            ("response_type", "code"),
            ("client_id", clientID),
            ("redirect_uri", redirectURI),
        ]
        if !scopes.isEmpty {
            items.append((oauth?.scopeParameter ?? "scope", scopes.joined(separator: oauth?.scopeSeparator ?? " ")))
        }
        items.append(("state", state))
        if let codeChallenge {
            items.append(("code_challenge", codeChallenge))
            items.append(("code_challenge_method", "S256"))
        }
        if let nonce { items.append(("nonce", nonce)) }
        let ours = Set(items.map(\.0))
        for (name, value) in (oauth?.authorizationParams ?? [:]).sorted(by: { $0.key < $1.key }) where !ours.contains(name) {
            items.append((name, value))
        }
        var text = endpoints.authorizationURL.absoluteString
        var fragment = ""
        if let hash = text.firstIndex(of: "#") {
            fragment = String(text[hash...])
            text = String(text[..<hash])
        }
        let query = items.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let separator = text.contains("?") ? (text.hasSuffix("?") || text.hasSuffix("&") ? "" : "&") : "?"
        return URL(string: text + separator + query + fragment) ?? endpoints.authorizationURL
    }

    /// Percent-encodes a query name or value strictly (space as `%20`), so that `,` `+` `:` `/` reach the provider intact.
    private static func encode(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}

/// What a provider sent back to `/connect/callback`.
public enum CallbackParameters: Sendable, Equatable {
    /// The person approved: the code to exchange, the state to check, and the `iss` when the provider sends one (RFC 9207).
    case code(code: String, state: String, issuer: String?)
    /// The provider answered with an error (`access_denied` when the person declined), with its `iss` when sent.
    case denied(error: String, description: String?, state: String?, issuer: String?)

    /// The parameters of an authorization response that must appear at most once (RFC 6749 §3.1: "Request and
    /// response parameters MUST NOT be included more than once"; RFC 9207 for `iss`).
    public static let singleParameters: Set<String> = ["code", "state", "iss", "error", "error_description", "error_uri"]

    /// Parses the callback query from its raw items, in order, duplicates kept. Any of ``singleParameters`` given
    /// more than once is refused (a first-wins or last-wins reading would let a second, injected value through). An
    /// `error` wins over a code; a code needs a state.
    public static func parse(items: [(name: String, value: String)]) throws(OAuthClientError) -> CallbackParameters {
        var query: [String: String] = [:]
        for (name, value) in items where singleParameters.contains(name) {
            guard query[name] == nil else { throw .malformedCallback(duplicateReason(name)) }
            query[name] = value
        }
        let issuer = query["iss"].flatMap { $0.isEmpty ? nil : $0 }
        if let error = query["error"], !error.isEmpty {
            return .denied(error: error, description: query["error_description"], state: query["state"], issuer: issuer)
        }
        guard let code = query["code"], !code.isEmpty else {
            throw .malformedCallback(query["state"] == nil ? "neither a code nor an error" : "no code")
        }
        guard let state = query["state"], !state.isEmpty else { throw .malformedCallback("no state") }
        return .code(code: code, state: state, issuer: issuer)
    }

    /// The reason ``parse(items:)`` gives for a parameter that appears more than once.
    public static func duplicateReason(_ name: String) -> String { "the parameter \(name) appears more than once" }

    /// The state, when the callback carries one.
    public var state: String? {
        switch self {
        case .code(_, let state, _): state
        case .denied(_, _, let state, _): state
        }
    }

    /// The `iss` the callback carries (RFC 9207), on a code or an error response.
    public var issuer: String? {
        switch self {
        case .code(_, _, let issuer): issuer
        case .denied(_, _, _, let issuer): issuer
        }
    }

    /// RFC 9207: when the issuer is known, a callback (a code or an error response) that names one must name it,
    /// and a callback from a provider that says it always sends `iss` (`required`) must carry it.
    public func checkIssuer(expected: String?, required: Bool = false) throws(OAuthClientError) {
        guard let expected else { return }
        guard let issuer else {
            if required { throw .malformedCallback("no iss, though the provider says it sends one") }
            return
        }
        guard issuer == expected else { throw .issuerMismatch }
    }
}
