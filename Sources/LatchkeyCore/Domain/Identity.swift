public import Foundation

/// How sure Latchkey is that an identity is the person: STRONG when the person proved it to Latchkey itself (a
/// password, single sign-on, a passkey, a code sent to their email), WEAK when an app vouches for it (a chat bot saying
/// "Slack user T1/U2"). Only STRONG sessions connect or disconnect services, grant MCP clients or link identities.
public enum IdentityStrength: String, Sendable, Codable, Equatable {
    case strong
    case weak
}

/// The ways a person proves who they are.
public enum SignInMethod: String, Sendable, Codable, Equatable, CaseIterable {
    /// Email and password.
    case password
    /// Single sign-on with an OIDC provider an admin configured; provider = the issuer, subject = `sub`.
    case oidc
    /// Sign-in through a catalog provider that is not OIDC (GitHub), by its user-info; provider = the integration key.
    case social
    /// A WebAuthn passkey; subject = the credential id (base64url).
    case passkey
    /// A one-time code sent to the person's email address; subject = the address.
    case email
    /// An identity an app vouches for (a chat bot's user); provider = the app's namespace (`slack`), subject = its id.
    case app

    /// STRONG for every method Latchkey checks itself; WEAK for what an app vouches for.
    public var strength: IdentityStrength { self == .app ? .weak : .strong }

    /// Words for people: "Password", "Single sign-on", …
    public var displayName: String {
        switch self {
        case .password: "Password"
        case .oidc: "Single sign-on"
        case .social: "Social sign-in"
        case .passkey: "Passkey"
        case .email: "Email code"
        case .app: "App account"
        }
    }
}

/// One way a User is known: a row in the `identities` table. `(tenant, provider, subject)` is unique, so one external
/// account belongs to at most one person of a tenant.
public struct Identity: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var userID: String
    public var method: SignInMethod
    /// Who vouches for `subject`: `password`, `email`, `passkey`, an OIDC issuer, an integration key, an app's
    /// namespace such as `slack`.
    public var provider: String
    /// The identifier the provider gives the person (never a secret).
    public var subject: String
    /// A name to show ("alice@example.com", "MacBook passkey", "Alice (Slack)").
    public var displayName: String?
    public var email: String?
    /// The app that vouched for a WEAK identity.
    public var appID: String?
    public var createdAt: Date
    public var lastUsedAt: Date?

    public var strength: IdentityStrength { method.strength }

    public init(
        id: String,
        tenantID: String,
        userID: String,
        method: SignInMethod,
        provider: String,
        subject: String,
        displayName: String? = nil,
        email: String? = nil,
        appID: String? = nil,
        createdAt: Date,
        lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.userID = userID
        self.method = method
        self.provider = provider
        self.subject = subject
        self.displayName = displayName
        self.email = email
        self.appID = appID
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
