import Foundation
public import LatchkeyCore
import Logging
public import SQLKit

extension WebhookOutbox {
    /// The answer to setting the endpoint. `secret` is set only when a new signing secret was made (first set, or
    /// rotated): it is shown to the caller this once and never again.
    public struct EndpointChange: Sendable {
        public var endpoint: WebhookEndpoint
        public var created: Bool
        public var secret: String?
    }

    /// The tenant's endpoint (or, with `appID`, that app's), if one is set.
    public func endpoint(tenantID: String, appID: String? = nil) async throws -> WebhookEndpoint? {
        try await database.read { db in
            if let appID { try await requireApp(appID, tenantID: tenantID, on: db) }
            return try await repository.endpoint(tenantID: tenantID, appID: appID, on: db)?.0
        }
    }

    /// Sets the URL (checked by the caller) of the tenant's endpoint, or with `appID` of that app's. A new endpoint
    /// gets a new 256-bit signing secret (`whsec_…`); an existing one keeps its secret unless `rotateSecret`. Audited
    /// with a fingerprint of the secret.
    public func setEndpoint(
        url: String,
        rotateSecret: Bool,
        tenantID: String,
        appID: String? = nil,
        actor: AuditActor
    ) async throws -> EndpointChange {
        let now = clock.now
        let newSecret = SecureRandom.token(prefix: "whsec_")
        let target = appID ?? "webhook"
        let change = try await database.transaction { db -> EndpointChange? in
            if let appID { try await requireApp(appID, tenantID: tenantID, on: db) }
            if let found = try await repository.endpoint(tenantID: tenantID, appID: appID, on: db, lock: true) {
                var endpoint = found.0
                endpoint.url = url
                endpoint.updatedAt = now
                let sealed = rotateSecret ? try keyring.seal(Data(newSecret.utf8), context: Self.secretContext(endpoint)) : nil
                try await repository.updateEndpoint(endpoint, sealedSecret: sealed, on: db)
                var details = ["host": Self.host(of: url)]
                if rotateSecret { details["secret_fp"] = keyring.fingerprint(newSecret) }
                try await audit.append(
                    AuditRecord(actor: actor, action: rotateSecret ? "webhook.rotate_secret" : "webhook.update", target: target, details: details),
                    tenantID: tenantID,
                    on: db
                )
                return EndpointChange(endpoint: endpoint, created: false, secret: rotateSecret ? newSecret : nil)
            }
            let endpoint = WebhookEndpoint(id: NewID.make(), tenantID: tenantID, appID: appID, url: url, createdAt: now, updatedAt: now)
            let sealed = try keyring.seal(Data(newSecret.utf8), context: Self.secretContext(endpoint))
            guard try await repository.insertEndpoint(endpoint, sealedSecret: sealed, on: db) else { return nil }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "webhook.create",
                    target: target,
                    details: ["host": Self.host(of: url), "secret_fp": keyring.fingerprint(newSecret)]
                ),
                tenantID: tenantID,
                on: db
            )
            return EndpointChange(endpoint: endpoint, created: true, secret: newSecret)
        }
        guard let change else { throw LatchkeyError.conflict("The webhook endpoint was being set by another request at the same time; try again.") }
        logger.info(
            "webhook endpoint set",
            metadata: ["tenant_id": "\(tenantID)", "app_id": "\(appID ?? "-")", "host": "\(Self.host(of: url))", "created": "\(change.created)"]
        )
        return change
    }

    /// Removes the tenant's endpoint (or, with `appID`, that app's). Events still waiting for it are dead-lettered
    /// (a later endpoint can replay them).
    public func deleteEndpoint(tenantID: String, appID: String? = nil, actor: AuditActor) async throws {
        try await database.transaction { db in
            if let appID { try await requireApp(appID, tenantID: tenantID, on: db) }
            guard let endpoint = try await repository.endpoint(tenantID: tenantID, appID: appID, on: db, lock: true)?.0,
                try await repository.deleteEndpoint(id: endpoint.id, tenantID: tenantID, on: db)
            else { throw Self.noEndpoint(appID: appID) }
            try await repository.abandonWaiting(
                tenantID: tenantID,
                appID: appID,
                error: "The webhook endpoint was removed before this event was delivered.",
                on: db
            )
            try await audit.append(
                AuditRecord(actor: actor, action: "webhook.delete", target: appID ?? "webhook", details: ["host": Self.host(of: endpoint.url)]),
                tenantID: tenantID,
                on: db
            )
        }
    }

    /// Removes an app's endpoint, if it has one, inside the caller's transaction (the app is being deleted): its
    /// waiting deliveries are dead-lettered, and nothing more is queued for it. Audited when there was one.
    public func removeEndpoint(ofApp appID: String, tenantID: String, actor: AuditActor, on db: any SQLDatabase) async throws {
        guard let endpoint = try await repository.endpoint(tenantID: tenantID, appID: appID, on: db, lock: true)?.0,
            try await repository.deleteEndpoint(id: endpoint.id, tenantID: tenantID, on: db)
        else { return }
        try await repository.abandonWaiting(tenantID: tenantID, appID: appID, error: "The app was deleted before this event was delivered.", on: db)
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "webhook.delete",
                target: appID,
                details: ["host": Self.host(of: endpoint.url), "reason": "app_deleted"]
            ),
            tenantID: tenantID,
            on: db
        )
    }

    /// Where a tenant's deliveries (or, with `appID`, that app's) go and the secret they are signed with, for the
    /// delivery service only.
    public func target(tenantID: String, appID: String? = nil) async throws -> (url: String, secret: String)? {
        guard let found = try await database.read({ db in try await repository.endpoint(tenantID: tenantID, appID: appID, on: db) }) else {
            return nil
        }
        let secret = String(decoding: try keyring.open(found.sealedSecret, context: Self.secretContext(found.0)), as: UTF8.self)
        return (found.0.url, secret)
    }

    /// Queues a delivery again now, with a fresh retry window — a dead one included. Refused while an attempt is in
    /// flight or when no endpoint is set. Audited.
    public func replay(deliveryID: String, tenantID: String, actor: AuditActor) async throws -> WebhookDelivery {
        let now = clock.now
        return try await database.transaction { db in
            guard
                let owner = try await db.raw(
                    "SELECT app_id FROM webhook_deliveries WHERE id = \(bind: deliveryID) AND tenant_id = \(bind: tenantID)"
                ).first()
            else { throw LatchkeyError.notFound("webhook delivery") }
            let appID = try owner.optionalString("app_id")
            guard try await repository.endpointExists(tenantID: tenantID, appID: appID, on: db) else {
                throw LatchkeyError.conflict(
                    appID == nil
                        ? "No webhook endpoint is set; set one with PUT /api/v1/webhooks, then replay."
                        : "The app this delivery was for has no webhook endpoint; set one with PUT /api/v1/apps/\(appID!)/webhook, then replay."
                )
            }
            guard
                let delivery = try await repository.requeue(
                    id: deliveryID,
                    tenantID: tenantID,
                    now: now,
                    retryUntil: now.addingTimeInterval(Self.retryWindow),
                    on: db
                )
            else {
                throw LatchkeyError.conflict("This delivery is being sent right now; replay it when the attempt has finished.")
            }
            try await audit.append(
                AuditRecord(actor: actor, action: "webhook.replay", target: delivery.id, details: ["event_type": delivery.type]),
                tenantID: tenantID,
                on: db
            )
            return delivery
        }
    }

    /// Queues a harmless `webhook.test` event for the tenant's endpoint through the outbox, like any event: the
    /// delivery service sends it, signed, and it shows in the deliveries. Refused (404) when no endpoint is set.
    /// Audited (`webhook.test`).
    public func sendTestEvent(tenantID: String, actor: AuditActor) async throws -> WebhookDelivery {
        try await database.transaction { db in
            guard try await repository.endpointExists(tenantID: tenantID, on: db) else { throw Self.noEndpoint(appID: nil) }
            let data: [String: WebhookValue] = ["message": "A test event sent by an administrator; nothing changed."]
            guard let eventID = try await enqueue(.test, tenantID: tenantID, data: data, on: db),
                let delivery = try await repository.delivery(eventID: eventID, tenantID: tenantID, on: db)
            else { throw LatchkeyError(.internalError, "The test event could not be queued.") }
            try await audit.append(
                AuditRecord(actor: actor, action: "webhook.test", target: delivery.id, details: ["event_type": delivery.type]),
                tenantID: tenantID,
                on: db
            )
            return delivery
        }
    }

    /// The error for a missing endpoint, naming the route that sets it.
    public static func noEndpoint(appID: String?) -> LatchkeyError {
        guard let appID else { return LatchkeyError(.notFound, "No webhook endpoint is set; set one with PUT /api/v1/webhooks.") }
        return LatchkeyError(.notFound, "This app has no webhook endpoint; set one with PUT /api/v1/apps/\(appID)/webhook.")
    }

    /// Refuses an app that is not one of the tenant's own apps: unknown (404), or the console, whose events the
    /// tenant endpoint hears (409).
    func requireApp(_ appID: String, tenantID: String, on db: any SQLDatabase) async throws {
        switch try await repository.appKind(id: appID, tenantID: tenantID, on: db) {
        case .none: throw LatchkeyError.notFound("app")
        case .console?:
            throw LatchkeyError.conflict(
                "The console app has no webhook of its own: its events go to the tenant endpoint (PUT /api/v1/webhooks)."
            )
        case .external?: return
        }
    }

    /// The host of a URL, the only part of it that goes into logs and audit events (paths may hold tokens).
    public static func host(of url: String) -> String {
        URLComponents(string: url)?.host ?? "(invalid URL)"
    }
}
