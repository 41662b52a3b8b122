public import Foundation

/// Whether an app's key works. The console app is always active.
public enum AppStatus: String, Sendable, Codable, CaseIterable {
    case active, disabled
}

/// What the hosted connect page shows for an app. Every field is optional; the app's name stands in for the display name.
public struct AppBranding: Sendable, Equatable, Codable {
    public var displayName: String?
    /// An https URL.
    public var logoURL: String?
    /// `#rrggbb`.
    public var accentColor: String?
    /// An https URL.
    public var privacyURL: String?

    public init(displayName: String? = nil, logoURL: String? = nil, accentColor: String? = nil, privacyURL: String? = nil) {
        self.displayName = displayName
        self.logoURL = logoURL
        self.accentColor = accentColor
        self.privacyURL = privacyURL
    }
}

/// What an app key may do (least privilege): which integrations (nil: all) and which operations.
public struct AppPermissions: Sendable, Equatable, Codable {
    /// An operation an app key can be allowed.
    public enum Operation: String, Sendable, Codable, CaseIterable {
        /// `POST /api/v1/credentials/token` and the end-user listings.
        case tokens
        /// Connect sessions and connections of its end users.
        case connect
        /// Proxy and tool calls.
        case proxy
    }

    /// Integration keys the app may use; nil means every integration of the tenant.
    public var integrations: [String]?
    public var operations: [Operation]

    public init(integrations: [String]? = nil, operations: [Operation] = Operation.allCases) {
        self.integrations = integrations
        self.operations = operations
    }

    /// Every integration, every operation.
    public static let all = AppPermissions()

    public func allows(_ operation: Operation) -> Bool { operations.contains(operation) }

    public func allows(integration key: String) -> Bool { integrations.map { $0.contains(key) } ?? true }
}

/// An app's own OAuth client for one integration, used instead of the integration's for the credentials it issues.
public struct AppIntegrationConfig: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var appID: String
    public var integrationID: String
    public var integrationKey: String
    public var clientID: String
    /// Whether a client secret is stored (it is never returned).
    public var hasClientSecret: Bool
    /// Scopes asked for; the integration's when empty.
    public var scopes: [String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        tenantID: String,
        appID: String,
        integrationID: String,
        integrationKey: String,
        clientID: String,
        hasClientSecret: Bool,
        scopes: [String],
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.appID = appID
        self.integrationID = integrationID
        self.integrationKey = integrationKey
        self.clientID = clientID
        self.hasClientSecret = hasClientSecret
        self.scopes = scopes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The context the client secret is encrypted under (bound to this row).
    public var clientSecretContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: appID, recordID: id, field: "app_client_secret")
    }

    /// The `issued_by` value of credentials this client issues.
    public static func issuer(appID: String) -> String { "app:\(appID)" }

    /// The app a credential's `issued_by` names, if it names one.
    public static func appID(issuedBy: String?) -> String? {
        guard let issuedBy, issuedBy.hasPrefix("app:") else { return nil }
        return String(issuedBy.dropFirst(4))
    }
}
