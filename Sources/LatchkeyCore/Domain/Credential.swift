public import Foundation

public enum CredentialType: String, Sendable, Codable, CaseIterable {
    case oauth2
    case apiKey = "api_key"
    case basic
}

public enum CredentialStatus: String, Sendable, Codable, CaseIterable {
    case active
    case expired
    case revoked
    case needsReauth = "needs_reauth"
}

/// A credential's metadata: everything but the secret, which stays encrypted in `payload` until revealed.
public struct Credential: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var connectionID: String
    /// Nil for the Connection's shared credential.
    public var endUserID: String?
    public var externalUserID: String?
    public var integrationKey: String
    public var type: CredentialType
    public var status: CredentialStatus
    public var statusReason: String?
    public var label: String?
    public var isDefault: Bool
    public var scopes: [String]
    public var expiresAt: Date?
    /// Who the credential is at the provider, e.g. alice@company.com.
    public var providerAccount: String?
    /// The provider's stable id for that account (used to recognise a reconnect of the same account).
    public var providerAccountID: String?
    /// When the background refresh should renew it; nil when it cannot or need not be refreshed.
    public var refreshDueAt: Date?
    /// Failed refresh attempts since the last success.
    public var refreshFailures: Int = 0
    public var connectionConfig: [String: String]
    /// Which OAuth client issued it ("integration" or an app config id).
    public var issuedBy: String?
    public var keyVersion: Int
    /// Row version for fenced writes.
    public var version: Int
    public var connectedAt: Date
    public var lastRefreshedAt: Date?
    public var lastUsedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        tenantID: String,
        connectionID: String,
        endUserID: String?,
        externalUserID: String?,
        integrationKey: String,
        type: CredentialType,
        status: CredentialStatus,
        statusReason: String?,
        label: String?,
        isDefault: Bool,
        scopes: [String],
        expiresAt: Date?,
        providerAccount: String?,
        connectionConfig: [String: String],
        issuedBy: String?,
        keyVersion: Int,
        version: Int,
        connectedAt: Date,
        lastRefreshedAt: Date?,
        lastUsedAt: Date?,
        createdAt: Date,
        updatedAt: Date,
        providerAccountID: String? = nil,
        refreshDueAt: Date? = nil
    ) {
        self.refreshDueAt = refreshDueAt
        self.providerAccountID = providerAccountID
        self.id = id
        self.tenantID = tenantID
        self.connectionID = connectionID
        self.endUserID = endUserID
        self.externalUserID = externalUserID
        self.integrationKey = integrationKey
        self.type = type
        self.status = status
        self.statusReason = statusReason
        self.label = label
        self.isDefault = isDefault
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.providerAccount = providerAccount
        self.connectionConfig = connectionConfig
        self.issuedBy = issuedBy
        self.keyVersion = keyVersion
        self.version = version
        self.connectedAt = connectedAt
        self.lastRefreshedAt = lastRefreshedAt
        self.lastUsedAt = lastUsedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The owner the ciphertext is bound to: the end user, or the Connection for a shared credential.
    public var ownerID: String { endUserID ?? connectionID }

    /// The context the payload is encrypted under.
    public var payloadContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: ownerID, recordID: id, field: "credentials.payload")
    }
}

/// The secret part of a credential, encrypted as one JSON document.
public struct CredentialSecret: Sendable, Equatable, Codable {
    public var accessToken: String?
    public var refreshToken: String?
    public var tokenType: String?
    public var idToken: String?
    public var apiKey: String?
    public var username: String?
    public var password: String?

    public init(
        accessToken: String? = nil,
        refreshToken: String? = nil,
        tokenType: String? = nil,
        idToken: String? = nil,
        apiKey: String? = nil,
        username: String? = nil,
        password: String? = nil
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenType = tokenType
        self.idToken = idToken
        self.apiKey = apiKey
        self.username = username
        self.password = password
    }

    /// Replaces the fields that `patch` sets.
    public mutating func apply(_ patch: CredentialSecret) {
        if let value = patch.accessToken { accessToken = value }
        if let value = patch.refreshToken { refreshToken = value }
        if let value = patch.tokenType { tokenType = value }
        if let value = patch.idToken { idToken = value }
        if let value = patch.apiKey { apiKey = value }
        if let value = patch.username { username = value }
        if let value = patch.password { password = value }
    }

    /// Every secret string it holds, for fingerprints and for scrubbing.
    public var secretValues: [String] {
        [accessToken, refreshToken, idToken, apiKey, password].compactMap { $0 }
    }

    /// Reads a decrypted payload. The flat object of strings this type writes is read directly (every token call
    /// opens one); any other shape (nulls, fields this version does not know) goes through `JSONDecoder`.
    public static func decode(_ payload: Data) throws -> CredentialSecret {
        if let strings = payload.withUnsafeBytes({ FlatJSONStrings.parse($0) }), let secret = CredentialSecret(strings: strings) {
            return secret
        }
        return try JSONDecoder().decode(CredentialSecret.self, from: payload)
    }

    private static let fieldNames: Set<String> = ["accessToken", "refreshToken", "tokenType", "idToken", "apiKey", "username", "password"]

    private init?(strings: [String: String]) {
        guard strings.keys.allSatisfy(Self.fieldNames.contains) else { return nil }
        self.init(
            accessToken: strings["accessToken"],
            refreshToken: strings["refreshToken"],
            tokenType: strings["tokenType"],
            idToken: strings["idToken"],
            apiKey: strings["apiKey"],
            username: strings["username"],
            password: strings["password"]
        )
    }
}
