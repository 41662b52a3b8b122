public import Foundation

/// A client of the authorization server as stored (migration 17): registered dynamically (RFC 7591) or by an
/// administrator. Its secret, when it has one, is kept only as an HMAC.
public struct OAuthClientRecord: Sendable, Equatable {
    /// `dynamic` (registered through `/oauth/register`), `static` (registered by an administrator) or `document`
    /// (described by a Client ID Metadata Document; never stored).
    public enum Kind: String, Sendable {
        case dynamic
        case `static`
        case document
    }

    public var id: String
    public var tenantID: String
    public var kind: Kind
    public var name: String?
    public var clientURI: String?
    public var logoURI: String?
    public var redirectURIs: [String]
    /// `none` or `client_secret_basic` / `client_secret_post`.
    public var authMethod: String
    /// `web` or `native`.
    public var applicationType: String
    public var secretHash: String?
    public var secretExpiresAt: Date?
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(
        id: String,
        tenantID: String,
        kind: Kind,
        name: String?,
        clientURI: String?,
        logoURI: String?,
        redirectURIs: [String],
        authMethod: String,
        applicationType: String,
        secretHash: String?,
        secretExpiresAt: Date?,
        createdAt: Date,
        lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.kind = kind
        self.name = name
        self.clientURI = clientURI
        self.logoURI = logoURI
        self.redirectURIs = redirectURIs
        self.authMethod = authMethod
        self.applicationType = applicationType
        self.secretHash = secretHash
        self.secretExpiresAt = secretExpiresAt
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// What a person granted a client: the integration keys of their services, the scopes and the resource.
public struct OAuthGrantRecord: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var userID: String
    public var clientID: String
    public var services: [String]
    public var scopes: [String]
    public var resource: String
    public var createdAt: Date
    public var updatedAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: String,
        tenantID: String,
        userID: String,
        clientID: String,
        services: [String],
        scopes: [String],
        resource: String,
        createdAt: Date,
        updatedAt: Date,
        lastUsedAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.userID = userID
        self.clientID = clientID
        self.services = services
        self.scopes = scopes
        self.resource = resource
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// An authorization code, kept by its HMAC: bound to its client, redirect URI, PKCE challenge, resource, user,
/// scopes and grant (whose services it carries).
public struct OAuthCodeRecord: Sendable, Equatable {
    public var codeHash: String
    public var tenantID: String
    public var grantID: String
    public var clientID: String
    public var userID: String
    public var redirectURI: String
    public var codeChallenge: String
    public var resource: String
    public var scopes: [String]
    /// An ``ExchangeStatus`` raw value.
    public var status: String
    public var createdAt: Date
    public var expiresAt: Date
    public var usedAt: Date?

    public init(
        codeHash: String,
        tenantID: String,
        grantID: String,
        clientID: String,
        userID: String,
        redirectURI: String,
        codeChallenge: String,
        resource: String,
        scopes: [String],
        status: String,
        createdAt: Date,
        expiresAt: Date,
        usedAt: Date? = nil
    ) {
        self.codeHash = codeHash
        self.tenantID = tenantID
        self.grantID = grantID
        self.clientID = clientID
        self.userID = userID
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.resource = resource
        self.scopes = scopes
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// An access (`lk_at_…`) or refresh token, kept by its HMAC. Refresh tokens of one authorization share a family;
/// `usedAt` marks a refresh token already rotated.
public struct OAuthTokenRecord: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case access
        case refresh
    }

    public var tokenHash: String
    public var id: String
    public var kind: Kind
    public var tenantID: String
    public var grantID: String
    public var clientID: String
    public var userID: String
    public var familyID: String
    public var parentID: String?
    /// The code it was issued for (the first pair of a family), so that a replayed code can revoke it.
    public var codeHash: String?
    public var scopes: [String]
    public var resource: String
    public var createdAt: Date
    public var expiresAt: Date
    public var usedAt: Date?
    public var revokedAt: Date?

    public init(
        tokenHash: String,
        id: String,
        kind: Kind,
        tenantID: String,
        grantID: String,
        clientID: String,
        userID: String,
        familyID: String,
        parentID: String?,
        codeHash: String?,
        scopes: [String],
        resource: String,
        createdAt: Date,
        expiresAt: Date,
        usedAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.tokenHash = tokenHash
        self.id = id
        self.kind = kind
        self.tenantID = tenantID
        self.grantID = grantID
        self.clientID = clientID
        self.userID = userID
        self.familyID = familyID
        self.parentID = parentID
        self.codeHash = codeHash
        self.scopes = scopes
        self.resource = resource
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.revokedAt = revokedAt
    }
}
