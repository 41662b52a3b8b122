import Foundation
import LatchkeyCore
import Logging
import SQLKit

extension WebhookOutbox {
    /// The answer to setting the endpoint. `secret` is set only when a new signing secret was made (first set, or
    /// rotated): it is shown to the caller this once and never again.
    public struct EndpointChange: Sendable {
        public var endpoint: WebhookEndpoint
        public var created: Bool
        public var secret: String?
    }

    /// The tenant's endpoint, if one is set.
    public func endpoint(tenantID: String) async throws -> WebhookEndpoint? {
        try await database.read { db in try await repository.endpoint(tenantID: tenantID, on: db)?.0 }
    }

    /// Sets the tenant's endpoint URL (checked by the caller). A new endpoint gets a new 256-bit signing secret
    /// (`whsec_…`); an existing one keeps its secret unless `rotateSecret`. Audited with a fingerprint of the secret.
    public func setEndpoint(url: String, rotateSecret: Bool, tenantID: String, actor: AuditActor) async throws -> EndpointChange {
        let now = clock.now
        let newSecret = SecureRandom.token(prefix: "whsec_")
        let change = try await database.transaction { db -> EndpointChange? in
            if let found = try await repository.endpoint(tenantID: tenantID, on: db, lock: true) {
                var endpoint = found.0
                endpoint.url = url
                endpoint.updatedAt = now
                let sealed = rotateSecret ? try keyring.seal(Data(newSecret.utf8), context: Self.secretContext(endpoint)) : nil
                try await repository.updateEndpoint(endpoint, sealedSecret: sealed, on: db)
                var details = ["host": Self.host(of: url)]
                if rotateSecret { details["secret_fp"] = keyring.fingerprint(newSecret) }
                try await audit.append(
                    AuditRecord(actor: actor, action: rotateSecret ? "webhook.rotate_secret" : "webhook.update", target: "webhook", details: details),
                    tenantID: tenantID,
                    on: db
                )
                return EndpointChange(endpoint: endpoint, created: false, secret: rotateSecret ? newSecret : nil)
            }
            let endpoint = WebhookEndpoint(id: NewID.make(), tenantID: tenantID, url: url, createdAt: now, updatedAt: now)
            let sealed = try keyring.seal(Data(newSecret.utf8), context: Self.secretContext(endpoint))
            guard try await repository.insertEndpoint(endpoint, sealedSecret: sealed, on: db) else { return nil }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "webhook.create",
                    target: "webhook",
                    details: ["host": Self.host(of: url), "secret_fp": keyring.fingerprint(newSecret)]
                ),
                tenantID: tenantID,
                on: db
            )
            return EndpointChange(endpoint: endpoint, created: true, secret: newSecret)
        }
        guard let change else { throw LatchkeyError.conflict("The webhook endpoint was being set by another request at the same time; try again.") }
        logger.info("webhook endpoint set", metadata: ["tenant_id": "\(tenantID)", "host": "\(Self.host(of: url))", "created": "\(change.created)"])
        return change
    }

    /// Removes the tenant's endpoint. Events still waiting are dead-lettered (a later endpoint can replay them).
    public func deleteEndpoint(tenantID: String, actor: AuditActor) async throws {
        try await database.transaction { db in
            guard let endpoint = try await repository.endpoint(tenantID: tenantID, on: db, lock: true)?.0,
                try await repository.deleteEndpoint(id: endpoint.id, tenantID: tenantID, on: db)
            else { throw Self.noEndpoint }
            try await repository.abandonWaiting(
                tenantID: tenantID,
                error: "The webhook endpoint was removed before this event was delivered.",
                on: db
            )
            try await audit.append(
                AuditRecord(actor: actor, action: "webhook.delete", target: "webhook", details: ["host": Self.host(of: endpoint.url)]),
                tenantID: tenantID,
                on: db
            )
        }
    }

    /// Where a tenant's deliveries go and the secret they are signed with, for the delivery service only.
    public func target(tenantID: String) async throws -> (url: String, secret: String)? {
        guard let found = try await database.read({ db in try await repository.endpoint(tenantID: tenantID, on: db) }) else {
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
            guard try await repository.endpointExists(tenantID: tenantID, on: db) else {
                throw LatchkeyError.conflict("No webhook endpoint is set; set one with PUT /api/v1/webhooks, then replay.")
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
                let exists = try await db.raw(
                    "SELECT id FROM webhook_deliveries WHERE id = \(bind: deliveryID) AND tenant_id = \(bind: tenantID)"
                ).first()
                if exists == nil { throw LatchkeyError.notFound("webhook delivery") }
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

    static var noEndpoint: LatchkeyError {
        LatchkeyError(.notFound, "No webhook endpoint is set; set one with PUT /api/v1/webhooks.")
    }

    /// The host of a URL, the only part of it that goes into logs and audit events (paths may hold tokens).
    public static func host(of url: String) -> String {
        URLComponents(string: url)?.host ?? "(invalid URL)"
    }
}
