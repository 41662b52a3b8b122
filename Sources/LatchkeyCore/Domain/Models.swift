public import Foundation

/// An isolated space: its own users, apps, integrations, credentials and audit chain.
public struct Tenant: Sendable, Equatable, Codable {
    public var id: String
    public var slug: String
    public var name: String
    public var createdAt: Date

    public init(id: String, slug: String, name: String, createdAt: Date) {
        self.id = id
        self.slug = slug
        self.name = name
        self.createdAt = createdAt
    }
}

/// A program that acts for end users. Every tenant has one `console` app: the web console itself.
public struct App: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case console, external }
    public var id: String
    public var tenantID: String
    public var name: String
    public var kind: Kind
    public var createdAt: Date
    public var description: String?
    public var status: AppStatus = .active
    public var branding: AppBranding = AppBranding()
    /// Origins (`scheme://host[:port]`) a connect session may send the person back to.
    public var allowedRedirectOrigins: [String] = []
    /// What the app's key may do.
    public var permissions: AppPermissions = .all
    /// The first characters of the current `lk_app_` key, to recognise it; nil when the app has no key.
    public var keyPrefix: String?
    public var updatedAt: Date

    public init(id: String, tenantID: String, name: String, kind: Kind, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.kind = kind
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// A person as one app knows them, by the app's own id for them.
public struct EndUser: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var appID: String
    public var externalID: String
    public var userID: String?
    public var createdAt: Date
    /// Name and email the app gave for the person, when it gave them.
    public var displayName: String?
    public var email: String?

    public init(id: String, tenantID: String, appID: String, externalID: String, userID: String?, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.appID = appID
        self.externalID = externalID
        self.userID = userID
        self.createdAt = createdAt
    }
}

/// What a console user or an admin key may do in its tenant.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Reads and changes everything in the tenant.
    case admin
    /// Reads everything an administrator can read (audit log, users, integrations, apps, requests) and changes
    /// nothing: no form, no write route, no token, no proxy call.
    case auditor
    /// Their own connections and sign-in settings (console users only).
    case member

    /// Words for messages: "an administrator", "an auditor", "a member".
    public var described: String {
        switch self {
        case .admin: "an administrator"
        case .auditor: "an auditor"
        case .member: "a member"
        }
    }
}

/// A person who signs in to the console.
public struct User: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var email: String
    public var displayName: String
    public var role: Role
    public var createdAt: Date

    public init(id: String, tenantID: String, email: String, displayName: String, role: Role, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.email = email
        self.displayName = displayName
        self.role = role
        self.createdAt = createdAt
    }

    public init(id: String, tenantID: String, email: String, displayName: String, isAdmin: Bool, createdAt: Date) {
        self.init(id: id, tenantID: tenantID, email: email, displayName: displayName, role: isAdmin ? .admin : .member, createdAt: createdAt)
    }

    /// A tenant administrator.
    public var isAdmin: Bool { role == .admin }

    /// Sees the administration pages: an administrator, or an auditor (who only reads them).
    public var seesAdministration: Bool { role != .member }
}

/// A provider enabled for a tenant, with its default OAuth client.
public struct Integration: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var key: String
    public var provider: String
    public var enabled: Bool
    public var clientID: String?
    public var scopes: [String]
    public var createdAt: Date
    /// Name shown to people; the provider's display name when nil.
    public var displayName: String?
    /// Provider-specific settings (the endpoints of a generic provider, an API base URL, …). Never secret.
    public var settings: [String: String]
    /// Whether an OAuth client secret is stored (it is never returned).
    public var hasClientSecret: Bool
    /// Row version for fenced writes.
    public var version: Int
    public var updatedAt: Date
    /// `ok`, or `misconfigured` when the provider refused the OAuth client.
    public var status: IntegrationStatus = .ok
    public var statusReason: String?

    public init(
        id: String,
        tenantID: String,
        key: String,
        provider: String,
        enabled: Bool,
        clientID: String?,
        scopes: [String],
        createdAt: Date,
        displayName: String? = nil,
        settings: [String: String] = [:],
        hasClientSecret: Bool = false,
        version: Int = 1,
        updatedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.key = key
        self.provider = provider
        self.enabled = enabled
        self.clientID = clientID
        self.scopes = scopes
        self.createdAt = createdAt
        self.displayName = displayName
        self.settings = settings
        self.hasClientSecret = hasClientSecret
        self.version = version
        self.updatedAt = updatedAt ?? createdAt
    }

    /// The context the OAuth client secret is encrypted under.
    public var clientSecretContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: id, recordID: id, field: "client_secret")
    }
}

/// The link between one app and one integration; credentials hang under it.
public struct Connection: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var appID: String
    public var integrationID: String
    public var integrationKey: String
    public var createdAt: Date

    public init(id: String, tenantID: String, appID: String, integrationID: String, integrationKey: String, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.appID = appID
        self.integrationID = integrationID
        self.integrationKey = integrationKey
        self.createdAt = createdAt
    }
}

/// A tenant administrator's API key, known only by its HMAC.
public struct AdminKey: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var name: String
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// `admin`, or `auditor` for a key that only reads.
    public var role: Role

    public init(
        id: String,
        tenantID: String,
        name: String,
        prefix: String,
        createdAt: Date,
        lastUsedAt: Date?,
        revokedAt: Date?,
        role: Role = .admin
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.role = role
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// Whether an integration's OAuth client works, as far as Latchkey knows.
public enum IntegrationStatus: String, Sendable, Codable, CaseIterable {
    case ok
    /// The provider refused the OAuth client (`invalid_client`); cleared when the client changes.
    case misconfigured
}

/// What happened at the provider when a credential was deleted: recorded on the audit event and the
/// `credential.deleted` webhook event.
public enum ProviderRevocation: String, Sendable, Codable, CaseIterable {
    /// The provider confirmed the grant or token is revoked.
    case revoked
    /// The provider has no revocation endpoint, or the credential is not an OAuth token.
    case notSupported = "not_supported"
    /// The provider was asked and did not confirm (an error, a timeout, a refusal by the outbound policy).
    case failed
    /// Nothing was sent to the provider (for example, a credential whose data cannot be read).
    case notAttempted = "not_attempted"
    /// The credential expired and was purged by retention; there was nothing left to revoke.
    case expired
}
