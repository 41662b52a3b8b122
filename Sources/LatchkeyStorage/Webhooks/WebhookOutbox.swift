public import Foundation
public import LatchkeyCore
public import Logging
public import SQLKit

/// The tenant's webhook: its endpoint (URL and signing secret, encrypted at rest) and the durable outbox of events
/// waiting to be delivered to it. Events are queued in the same transaction as the change they describe, so an event
/// exists exactly when its change committed; the delivery service sends them later, from any instance.
public struct WebhookOutbox: Sendable {
    /// How long a failing delivery is retried before it is dead-lettered.
    public static let retryWindow: TimeInterval = 24 * 3600

    public let repository: WebhookRepository
    let database: Database
    let keyring: Keyring
    let audit: AuditLog
    let clock: any LatchkeyClock
    let logger: Logger

    public init(database: Database, keyring: Keyring, audit: AuditLog, clock: any LatchkeyClock, logger: Logger) {
        self.database = database
        self.repository = WebhookRepository(database: database)
        self.keyring = keyring
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// Queues event `type` for the tenant's endpoint inside the caller's transaction: it is delivered only if that
    /// transaction commits. An event an app hears (``WebhookEventType/appEvents``) is queued for that app's endpoint
    /// as well, when it has one: the app is `data["appId"]`, else the app of the Connection `data["connectionId"]`,
    /// so an app hears of its own end users only. Does nothing (and returns nil) when no endpoint is to hear it.
    /// `data` carries ids, keys, statuses and reasons — never a secret; keys that name one (token, secret, password,
    /// API key) are refused. Returns the event id (`evt_…`).
    @discardableResult
    public func enqueue(type: String, tenantID: String, data: [String: WebhookValue], on db: any SQLDatabase) async throws -> String? {
        guard WebhookEventType(rawValue: type) != nil else {
            throw LatchkeyError(.internalError, "Unknown webhook event type '\(type)'.")
        }
        let keys = WebhookValue.object(data).keys
        if let key = keys.first(where: Self.looksSecret) {
            throw LatchkeyError(.internalError, "Webhook event data may not carry secrets (field '\(key)').")
        }
        let owners = try await repository.endpointOwners(tenantID: tenantID, on: db)
        var appID: String?
        if !owners.apps.isEmpty, let known = WebhookEventType(rawValue: type), WebhookEventType.appEvents.contains(known) {
            if case .string(let id) = data["appId"] {
                appID = id
            } else if case .string(let connectionID) = data["connectionId"] {
                appID = try await repository.appOfConnection(id: connectionID, tenantID: tenantID, on: db)
            }
        }
        let app = appID.flatMap { owners.apps.contains($0) ? $0 : nil }
        guard owners.tenant || app != nil else { return nil }
        let now = clock.now
        let eventID = "evt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let payload = try Self.payload(id: eventID, type: type, createdAt: now, tenantID: tenantID, data: data)
        var delivery = WebhookDelivery(
            id: NewID.make(),
            tenantID: tenantID,
            eventID: eventID,
            type: type,
            payload: payload,
            status: .pending,
            attempts: 0,
            nextAttemptAt: now,
            retryUntil: now.addingTimeInterval(Self.retryWindow),
            createdAt: now
        )
        if owners.tenant { try await repository.insertDelivery(delivery, on: db) }
        if let app {
            delivery.id = NewID.make()
            delivery.appID = app
            try await repository.insertDelivery(delivery, on: db)
        }
        return eventID
    }

    /// Queues event `type` inside the caller's transaction; string data only.
    @discardableResult
    public func enqueue(type: String, tenantID: String, data: [String: String], on db: any SQLDatabase) async throws -> String? {
        try await enqueue(type: type, tenantID: tenantID, data: data.mapValues(WebhookValue.string), on: db)
    }

    /// Queues event `type` inside the caller's transaction.
    @discardableResult
    public func enqueue(_ type: WebhookEventType, tenantID: String, data: [String: WebhookValue], on db: any SQLDatabase) async throws -> String? {
        try await enqueue(type: type.rawValue, tenantID: tenantID, data: data, on: db)
    }

    /// Queues event `type` in a transaction of its own.
    @discardableResult
    public func enqueue(type: String, tenantID: String, data: [String: WebhookValue]) async throws -> String? {
        try await database.transaction { db in try await enqueue(type: type, tenantID: tenantID, data: data, on: db) }
    }

    /// Queues event `type` in a transaction of its own; string data only.
    @discardableResult
    public func enqueue(type: String, tenantID: String, data: [String: String]) async throws -> String? {
        try await enqueue(type: type, tenantID: tenantID, data: data.mapValues(WebhookValue.string))
    }

    /// The JSON body of an event: `{"createdAt", "data", "id", "tenant", "type"}`, keys sorted.
    static func payload(id: String, type: String, createdAt: Date, tenantID: String, data: [String: WebhookValue]) throws -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let object: WebhookValue = [
            "id": .string(id), "type": .string(type), "createdAt": .string(formatter.string(from: createdAt)), "tenant": .string(tenantID),
            "data": .object(data),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }

    static func looksSecret(_ key: String) -> Bool {
        let name = key.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
        return ["token", "secret", "password", "apikey", "privatekey", "verifier"].contains { name.contains($0) }
    }

    /// The encryption context of an endpoint's signing secret.
    static func secretContext(_ endpoint: WebhookEndpoint) -> EncryptionContext {
        EncryptionContext(
            tenantID: endpoint.tenantID,
            ownerID: endpoint.appID ?? endpoint.tenantID,
            recordID: endpoint.id,
            field: "webhook_signing_secret"
        )
    }
}
