import Foundation
import LatchkeyCore
import LatchkeyStorage
import Logging

/// The end of an app's connect session told to webhooks: `connect_session.completed` or `connect_session.failed`,
/// queued in the same transaction as the move that ends the session. The move is fenced on the state it leaves, so
/// of any number of requests racing to end one session exactly one writes it, and its event is queued exactly once;
/// a retryable denial (back to `pending`) queues nothing.
extension AppConnectSessions {
    /// Applies `transition` to `session`; true when this call moved it. When the move ends the session the event
    /// goes to the app's endpoint (and the tenant's): sessionId, appId, externalUserId, integration, connectionId,
    /// and credentialId (completed) or error (failed, expired). Never a token or a secret. An expiry is also audited
    /// (`connect_session.failed`, error `expired`), once, in the same transaction.
    func move(
        _ transition: ExchangeTransition,
        session: AppConnectSession,
        credentialID: String?,
        integrationKey: String? = nil
    ) async throws -> Bool {
        guard transition.to.isFinal else { return try await store.apply(transition, id: session.id, credentialID: credentialID) }
        let webhooks = connect.vault.webhooks
        var key = integrationKey
        if key == nil, webhooks != nil || transition.to == .expired { key = try await self.integrationKey(of: session) }
        var data: [String: WebhookValue] = [
            "sessionId": .string(session.id), "appId": .string(session.appID), "connectionId": .string(session.connectionID),
        ]
        if webhooks != nil, let external = try await store.externalUserID(endUserID: session.endUserID, tenantID: session.tenantID) {
            data["externalUserId"] = .string(external)
        }
        if let key { data["integration"] = .string(key) }
        let type: WebhookEventType
        if transition.to == .completed {
            type = .connectSessionCompleted
            if let credentialID { data["credentialId"] = .string(credentialID) }
        } else {
            type = .connectSessionFailed
            data["error"] = .string(transition.to == .expired ? "expired" : transition.reason ?? "failed")
        }
        let payload = data
        // An expiry is noticed by whichever request comes first (the page, a new attempt, the app reading the
        // session, the callback); the one that moves the session audits it.
        let expiry =
            transition.to == .expired
            ? AuditRecord(
                actor: AuditActor(id: "app:\(session.appID)"),
                action: "connect_session.failed",
                target: session.id,
                service: key,
                result: .failure,
                details: ["app_id": session.appID, "end_user_id": session.endUserID, "error": "expired"],
                person: session.endUserID
            ) : nil
        return try await connect.vault.database.transaction { db in
            guard try await store.apply(transition, id: session.id, credentialID: credentialID, on: db) else { return false }
            if let webhooks { try await webhooks.enqueue(type, tenantID: session.tenantID, data: payload, on: db) }
            if let expiry { try await audit.append(expiry, tenantID: session.tenantID, on: db) }
            return true
        }
    }
}
