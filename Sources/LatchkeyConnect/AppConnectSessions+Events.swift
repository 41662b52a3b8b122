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
    /// and credentialId (completed) or error (failed, expired). Never a token or a secret.
    func move(
        _ transition: ExchangeTransition,
        session: AppConnectSession,
        credentialID: String?,
        integrationKey: String? = nil
    ) async throws -> Bool {
        guard transition.to.isFinal, let webhooks = connect.vault.webhooks else {
            return try await store.apply(transition, id: session.id, credentialID: credentialID)
        }
        var data: [String: WebhookValue] = [
            "sessionId": .string(session.id), "appId": .string(session.appID), "connectionId": .string(session.connectionID),
        ]
        if let external = try await store.externalUserID(endUserID: session.endUserID, tenantID: session.tenantID) {
            data["externalUserId"] = .string(external)
        }
        var key = integrationKey
        if key == nil { key = try await self.integrationKey(of: session) }
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
        return try await connect.vault.database.transaction { db in
            guard try await store.apply(transition, id: session.id, credentialID: credentialID, on: db) else { return false }
            try await webhooks.enqueue(type, tenantID: session.tenantID, data: payload, on: db)
            return true
        }
    }
}
