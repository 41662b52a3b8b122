import Foundation
public import LatchkeyCore
public import SQLKit

/// Webhook events and Connection health, written in the same transaction as the change they describe.
extension CredentialVault {
    /// Credential counts of a Connection by status (end users' credentials), and whether its shared one is usable.
    public func healthCounts(connectionID: String, on db: any SQLDatabase) async throws -> ConnectionHealth.Counts {
        var counts = ConnectionHealth.Counts()
        for row in try await db.raw(
            """
            SELECT status, CASE WHEN end_user_id IS NULL THEN 1 ELSE 0 END AS shared, COUNT(*) AS n FROM credentials
            WHERE connection_id = \(bind: connectionID) GROUP BY status, CASE WHEN end_user_id IS NULL THEN 1 ELSE 0 END
            """
        ).all() {
            let status = try row.string("status")
            let n = try row.int("n")
            if try row.int("shared") == 1 {
                counts.sharedUsable = (counts.sharedUsable ?? false) || status == CredentialStatus.active.rawValue
                continue
            }
            switch CredentialStatus(rawValue: status) {
            case .active: counts.active += n
            case .expired: counts.expired += n
            case .needsReauth: counts.needsReauth += n
            case .revoked, .none: break
            }
        }
        return counts
    }

    /// Runs `change` in a transaction and queues `connection.health_changed` when the Connection's health (from its
    /// credentials) moved.
    func withHealthWatch<T: Sendable>(
        connectionID: String,
        tenantID: String,
        on db: any SQLDatabase,
        _ change: () async throws -> T
    ) async throws -> T {
        guard let webhooks else { return try await change() }
        let before = ConnectionHealth.evaluate(try await healthCounts(connectionID: connectionID, on: db))
        let result = try await change()
        let after = ConnectionHealth.evaluate(try await healthCounts(connectionID: connectionID, on: db))
        if before.state != after.state {
            try await webhooks.enqueue(
                .connectionHealthChanged,
                tenantID: tenantID,
                data: [
                    "connectionId": .string(connectionID), "health": .string(after.state.rawValue), "previous": .string(before.state.rawValue),
                    "reasons": .array(after.reasons.map { .string($0) }),
                ],
                on: db
            )
        }
        return result
    }

    /// Queues a credential event (a no-op without a webhook endpoint).
    func emit(_ type: WebhookEventType, _ credential: Credential, extra: [String: String] = [:], on db: any SQLDatabase) async throws {
        guard let webhooks else { return }
        var data: [String: WebhookValue] = [
            "credentialId": .string(credential.id), "integration": .string(credential.integrationKey),
            "connectionId": .string(credential.connectionID), "status": .string(credential.status.rawValue),
        ]
        if let external = credential.externalUserID { data["externalUserId"] = .string(external) }
        for (key, value) in extra { data[key] = .string(value) }
        try await webhooks.enqueue(type, tenantID: credential.tenantID, data: data, on: db)
    }
}
