/// One entry of the provider catalog: how to connect to a third-party service and how to call it.
///
/// Entries are data files shipped with the binary (`Catalog/<id>.json`) and are checked by
/// ``ProviderCatalog`` when it loads them.
public struct Provider: Sendable, Codable, Equatable, Identifiable {
    /// Stable identifier, lowercase `[a-z0-9_-]`, equal to the file name without `.json`.
    public var id: String
    /// Name shown to people, e.g. "Google Drive".
    public var displayName: String
    /// Catalog categories used for grouping, e.g. `developer-tools`, `productivity`.
    public var categories: [String]
    /// Name of the icon asset for the provider.
    public var icon: String
    /// The provider's developer documentation home page.
    public var docsURL: String
    /// How credentials for this provider are obtained.
    public var authMode: AuthMode
    /// Facts that could not be confirmed from documentation, and other remarks for operators.
    public var notes: String?
    /// Values that vary per credential (a Shopify shop, a Zendesk subdomain) and fill `{name}` placeholders in URLs.
    public var templateParameters: [String: TemplateParameter]?
    /// Settings the admin gives on the integration (used by the generic `oauth2` and `oidc` providers).
    public var integrationSettings: [String: IntegrationSetting]?
    /// OAuth settings; required for `oauth2` and `oauth2_client_credentials`.
    public var oauth: OAuthSettings?
    /// How an API key or basic secret is sent; required for `api_key` and `basic`.
    public var apiKey: ApiKeySettings?
    /// Base URL that proxied API calls are made against.
    public var proxyBaseURL: String?
    /// Headers added to every proxied API call (API version pins and the like).
    public var requestHeaders: [String: String]?
    /// Names of the headers the provider uses to announce rate limits.
    public var rateLimitHeaders: RateLimitHeaders?
    /// The calls a Connection may make per window by default (each Connection may set its own).
    public var rateLimit: RateLimitDefault?
    /// A cheap authenticated request used to check that a credential still works.
    public var probe: Probe?
    /// How to read who the credential belongs to.
    public var identity: IdentitySpec?
    /// Calls made for a language model or an app as the user (see `Provider+Tools.swift`).
    public var tools: [Tool]?
    /// Reference data kept per credential, fetched with the tools (see `Provider+Datasets.swift`).
    public var datasets: [Dataset]?

    /// How credentials for a provider are obtained.
    public enum AuthMode: String, Sendable, Codable, Equatable, CaseIterable {
        /// Authorization code grant, on behalf of a person.
        case oauth2
        /// Client credentials grant, on behalf of the client itself.
        case oauth2ClientCredentials = "oauth2_client_credentials"
        /// A static key sent in a header.
        case apiKey = "api_key"
        /// HTTP basic authentication with a user name and a secret.
        case basic
    }
}

/// A `{name}` placeholder value that differs per credential.
public struct TemplateParameter: Sendable, Codable, Equatable {
    /// What the value is, in plain words.
    public var description: String
    /// Regular expression the whole value must match (for values typed by a person).
    public var pattern: String?
    /// An example value; also used to check that templated URLs are well formed.
    public var example: String
    /// Value used when none is given, e.g. `common` for the Microsoft tenant.
    public var defaultValue: String?
    /// Where the value comes from.
    public var source: Source

    /// Where a template value comes from.
    public enum Source: String, Sendable, Codable, Equatable {
        /// Typed by the person connecting the account.
        case user
        /// Read from a field of the token response (e.g. Salesforce's `instance_url`).
        case tokenResponse = "token_response"
    }
}

/// A setting the admin enters on an integration of a generic provider.
public struct IntegrationSetting: Sendable, Codable, Equatable {
    /// What the setting means, in plain words.
    public var description: String
    /// Whether the integration cannot work without it.
    public var required: Bool
    /// Whether the value must be an https URL.
    public var isURL: Bool
}

/// An endpoint together with the documentation page it was taken from.
public struct DocumentedEndpoint: Sendable, Codable, Equatable {
    /// Absolute https URL, possibly with `{name}` placeholders.
    public var url: String
    /// Documentation page that states this URL.
    public var docs: String
}

/// How the client authenticates at the token endpoint.
public enum ClientAuthMethod: String, Sendable, Codable, Equatable {
    /// HTTP basic authentication with client id and secret.
    case clientSecretBasic = "client_secret_basic"
    /// Client id and secret in the form body.
    case clientSecretPost = "client_secret_post"
}

/// OAuth 2.0 settings of a provider.
public struct OAuthSettings: Sendable, Codable, Equatable {
    /// True for the generic providers: the admin sets the endpoints on the integration.
    public var configurableEndpoints: Bool?
    /// Where the person is sent to grant access.
    public var authorizationURL: DocumentedEndpoint?
    /// Where codes and refresh tokens are exchanged.
    public var tokenURL: DocumentedEndpoint?
    /// Where tokens are revoked, when the provider has such an endpoint.
    public var revocationURL: DocumentedEndpoint?
    /// How the revocation endpoint takes the token; ``RevocationStyle/rfc7009`` unless said otherwise.
    public var revocationStyle: RevocationStyle?
    /// Where the account behind a token is described.
    public var userInfoURL: DocumentedEndpoint?
    /// Character that joins scopes in the authorization request, `" "` or `","`.
    public var scopeSeparator: String
    /// Query parameter that carries the scopes; `scope` unless said otherwise (Slack user tokens use `user_scope`).
    public var scopeParameter: String?
    /// Scopes requested when the integration does not name any.
    public var defaultScopes: [String]
    /// Each known scope and what it allows, in plain words.
    public var scopes: [String: String]
    /// True when `scopes` lists only a selection and the provider accepts many more (Google, Microsoft Graph…):
    /// integrations may then name scopes the catalog does not list. Otherwise unknown scopes are refused.
    public var openScopes: Bool?
    /// Extra query parameters for the authorization request.
    public var authorizationParams: [String: String]?
    /// Extra form parameters for token requests.
    public var tokenParams: [String: String]?
    /// Extra headers for token requests (GitHub needs `Accept: application/json`).
    public var tokenRequestHeaders: [String: String]?
    /// Header that carries the access token on API calls; `Authorization` unless said otherwise.
    public var accessTokenHeader: String?
    /// Value of that header with an `{accessToken}` placeholder; `Bearer {accessToken}` unless said otherwise.
    public var accessTokenFormat: String?
    /// Whether to send a PKCE challenge.
    public var pkce: Bool
    /// How the client authenticates at the token endpoint.
    public var clientAuth: ClientAuthMethod
    /// Dotted path of the object holding the token in the response (`authed_user` for Slack user tokens); nil means the top level.
    public var tokenPath: String?
    /// How the lifetime of the access token is given.
    public var expiry: TokenExpiry
    /// Whether the provider issues refresh tokens at all (possibly only with extra parameters or app settings).
    public var issuesRefreshTokens: Bool
    /// Whether each refresh returns a new refresh token that replaces the old one.
    public var refreshTokenRotates: Bool
    /// Seconds of disuse after which a refresh token stops working, when the provider documents it.
    public var refreshTokenIdleExpirySeconds: Int?
    /// Refresh this many seconds before the access token expires.
    public var refreshBufferSeconds: Int?
    /// RFC 9207: the provider's issuer identifier (`url`) and the page documenting that it puts `iss` on every
    /// authorization response (`docs`). When set, a callback without `iss`, or with another one, is refused.
    public var authorizationResponseIssuer: DocumentedEndpoint?
}

/// How a provider's revocation endpoint is called.
public enum RevocationStyle: String, Sendable, Codable, Equatable {
    /// RFC 7009: a form POST of `token` and `token_type_hint`, with the client authenticated as at the token endpoint.
    case rfc7009
    /// A POST that carries the token itself as a bearer credential and nothing else (Slack, Dropbox, Strava).
    case bearer
    /// A DELETE of the grant with the client's basic credentials and the token in a JSON body `{"access_token": …}`;
    /// the URL may hold a `{client_id}` placeholder, filled with the OAuth client id (GitHub).
    case deleteGrant = "delete_grant"
}

/// How the lifetime of an access token is given in the token response.
public struct TokenExpiry: Sendable, Codable, Equatable {
    /// The encoding of the lifetime.
    public var format: Format
    /// Name of the response field; nil for ``Format/never``.
    public var field: String?

    public init(format: Format, field: String?) {
        self.format = format
        self.field = field
    }

    /// Encodings of an access token's lifetime.
    public enum Format: String, Sendable, Codable, Equatable {
        /// A number of seconds from now (`expires_in`).
        case seconds
        /// A number of seconds from now, sent as a string.
        case stringSeconds = "string_seconds"
        /// An absolute Unix time in seconds (`expires_at`).
        case unixTime = "unix_time"
        /// Tokens do not expire; no field is sent.
        case never
    }
}

/// How an API key or a basic secret is sent with each request.
public struct ApiKeySettings: Sendable, Codable, Equatable {
    /// Header or basic authentication.
    public var scheme: Scheme
    /// Header that carries the key (for ``Scheme/header``).
    public var headerName: String?
    /// Header value with an `{apiKey}` placeholder, e.g. `Bearer {apiKey}` (for ``Scheme/header``).
    public var format: String?
    /// What the key is called at the provider, shown when it is entered.
    public var keyLabel: String?
    /// What the basic user name is at the provider (for ``Scheme/basic``), e.g. "Account SID".
    public var usernameLabel: String?
    /// What the basic password is at the provider (for ``Scheme/basic``), e.g. "Auth token".
    public var passwordLabel: String?
    /// Documentation page describing the authentication.
    public var docs: String

    /// Ways of sending a static secret.
    public enum Scheme: String, Sendable, Codable, Equatable {
        /// The key in a header, formatted by ``ApiKeySettings/format``.
        case header
        /// HTTP basic authentication.
        case basic
    }
}

/// Header names a provider uses for rate limits.
public struct RateLimitHeaders: Sendable, Codable, Equatable {
    /// Header giving seconds to wait, usually `Retry-After`.
    public var retryAfter: String?
    /// Header giving when the window resets.
    public var reset: String?
    /// Header giving the remaining requests in the window.
    public var remaining: String?
    /// Header giving the window's limit.
    public var limit: String?

    public init(retryAfter: String?, reset: String?, remaining: String?, limit: String?) {
        self.retryAfter = retryAfter
        self.reset = reset
        self.remaining = remaining
        self.limit = limit
    }
}

/// A Connection's default rate budget for a provider: `budget` calls per `windowSeconds`, shared fairly by its end
/// users.
public struct RateLimitDefault: Sendable, Codable, Equatable {
    /// Calls per window, all end users of a Connection together.
    public var budget: Int
    /// The window's length in seconds.
    public var windowSeconds: Int

    public init(budget: Int, windowSeconds: Int) {
        self.budget = budget
        self.windowSeconds = windowSeconds
    }
}

/// A cheap request that tells whether a credential still works.
public struct Probe: Sendable, Codable, Equatable {
    /// HTTP method, e.g. `GET`.
    public var method: String
    /// Path relative to ``Provider/proxyBaseURL``, or an absolute https URL.
    public var path: String
    /// Request body, for providers whose API only answers POST (GraphQL and the like).
    public var body: String?
    /// Status code of a healthy answer.
    public var expectStatus: Int
}

/// How to read the account a credential belongs to.
public struct IdentitySpec: Sendable, Codable, Equatable {
    /// HTTP method, `GET` unless said otherwise.
    public var method: String?
    /// Path relative to ``Provider/proxyBaseURL``, or an absolute https URL.
    public var endpoint: String
    /// Request body, for providers whose API only answers POST (GraphQL and the like).
    public var body: String?
    /// Dotted path of the stable account id in the answer.
    public var idField: String
    /// Dotted path of the e-mail address, when the answer has one.
    public var emailField: String?
    /// Dotted path of the display name, when the answer has one.
    public var nameField: String?
}
