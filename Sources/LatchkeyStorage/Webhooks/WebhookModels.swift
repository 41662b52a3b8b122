public import Foundation

/// The events a webhook endpoint receives.
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    /// An account was connected or a credential imported.
    case credentialCreated = "credential.created"
    /// A credential can no longer be refreshed; its owner has to reconnect.
    case credentialNeedsReauth = "credential.needs_reauth"
    /// Access was revoked (disconnected, or revoked at the provider).
    case credentialRevoked = "credential.revoked"
    /// A credential was deleted.
    case credentialDeleted = "credential.deleted"
    /// A connection's health changed (healthy, degraded, unhealthy).
    case connectionHealthChanged = "connection.health_changed"
    /// The provider refused an integration's OAuth client (`invalid_client`): an administrator has to fix its client
    /// id or secret. Its credentials are left as they are.
    case integrationMisconfigured = "integration.misconfigured"
    /// An app's connect session finished: the end user connected their account.
    case connectSessionCompleted = "connect_session.completed"
    /// An app's connect session ended without a credential (refused, failed at the provider).
    case connectSessionFailed = "connect_session.failed"
    /// A credential's reference-data sync of one dataset fetched every page (sent for every complete run).
    case syncCompleted = "sync.completed"
    /// A credential's reference-data sync of one dataset was given up for this attempt (retried later, or paused
    /// until the account is reconnected).
    case syncFailed = "sync.failed"
    /// A harmless event an administrator sends to check the endpoint (the console's *Send test event*,
    /// `POST /api/v1/webhooks/test`). Nothing changed; the tenant endpoint only.
    case test = "webhook.test"

    /// The events an app's own endpoint hears, for its own end users only. The tenant endpoint hears every event.
    public static let appEvents: [WebhookEventType] = [
        .credentialCreated, .credentialNeedsReauth, .credentialRevoked, .connectSessionCompleted, .connectSessionFailed,
        .syncCompleted, .syncFailed,
    ]
}

/// A JSON value in an event's `data`: ids, keys, statuses, reasons, counts. Never a secret.
public enum WebhookValue: Sendable, Equatable, Codable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([WebhookValue])
    case object([String: WebhookValue])
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: WebhookValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, WebhookValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([WebhookValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: WebhookValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// Every object key in this value, at any depth.
    var keys: [String] {
        switch self {
        case .array(let items): items.flatMap(\.keys)
        case .object(let members): members.keys + members.values.flatMap(\.keys)
        default: []
        }
    }
}

/// Where a tenant's events go, or one app's. The signing secret is stored encrypted and is not part of this value.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    /// The app whose endpoint this is; nil for the tenant's own.
    public var appID: String? = nil
    public var url: String
    public var createdAt: Date
    public var updatedAt: Date
}

/// The state of one event's delivery.
public enum WebhookDeliveryStatus: String, Sendable, CaseIterable, Codable {
    /// Queued, not tried yet (or replayed).
    case pending
    /// Sent and acknowledged with a 2xx answer.
    case delivered
    /// The last attempt failed; another is scheduled.
    case failed
    /// Retried for the whole retry window without success, or its endpoint was removed. Replay sends it again.
    case dead
}

/// One event queued for one endpoint, with its delivery history.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    /// The app whose endpoint this delivery goes to; nil for the tenant's endpoint.
    public var appID: String? = nil
    public var eventID: String
    public var type: String
    /// The exact JSON body that is sent (and signed).
    public var payload: String
    public var status: WebhookDeliveryStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    /// After this, a failed attempt dead-letters the delivery instead of scheduling another.
    public var retryUntil: Date
    public var lastAttemptAt: Date?
    public var lastStatusCode: Int?
    /// What went wrong last, in plain words (host names only, never a URL path or a secret).
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?
    public var leaseOwner: String?
    public var leaseUntil: Date?
}
