import Foundation
public import LatchkeyCore
import Logging
import SQLKit

extension AppService {
    /// Revokes and deletes one credential at its provider (best effort; the outcome is recorded by the caller).
    public typealias RevokeAndDelete = @Sendable (Credential, AuditActor) async throws -> Void

    /// Deletes an external app and everything under it: its users' and shared credentials are revoked at their
    /// providers (best effort, each recorded in the audit log) and deleted, then its end users, connections,
    /// OAuth configs, connect sessions and webhook endpoint. The key stops at once on this instance.
    public func delete(id: String, tenantID: String, actor: AuditActor, revokeAndDelete: RevokeAndDelete) async throws {
        let app = try await app(id: id, tenantID: tenantID)
        guard app.kind == .external else {
            throw LatchkeyError.conflict("The console app cannot be deleted: the web console and admin keys act through it.")
        }
        // Stop the key first, so nothing new is issued while the credentials go.
        keyCache.remove(appID: id)
        let (revoked, failed) = await revokeAll(
            try await endUsers.credentialIDs(appID: id, tenantID: tenantID),
            tenantID: tenantID,
            actor: actor,
            revokeAndDelete
        )
        let deleted = try await database.transaction { db -> Bool in
            // Its webhook endpoint goes first, with the deliveries still waiting for it (dead-lettered, audited).
            try await vault.webhooks?.removeEndpoint(ofApp: id, tenantID: tenantID, actor: actor, on: db)
            guard try await apps.deleteCascade(id: id, tenantID: tenantID, on: db) else { return false }
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "app.delete",
                    target: id,
                    details: ["name": app.name, "credentials_deleted": String(revoked), "credentials_not_revoked": String(failed)]
                ),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        keyCache.remove(appID: id)
        guard deleted else { throw LatchkeyError.notFound("app") }
        logger.info("app deleted", metadata: ["app_id": "\(id)", "credentials": "\(revoked)"])
    }

    /// Runs `revokeAndDelete` on each credential; a failure is logged and counted, and the row is removed by the
    /// caller's cascade. Returns how many went through it and how many failed.
    func revokeAll(_ ids: [String], tenantID: String, actor: AuditActor, _ revokeAndDelete: RevokeAndDelete) async -> (done: Int, failed: Int) {
        var done = 0
        var failed = 0
        for id in ids {
            do {
                let credential = try await vault.get(id: id, tenantID: tenantID, actor: actor)
                try await revokeAndDelete(credential, actor)
                done += 1
            } catch {
                failed += 1
                logger.warning("credential not revoked before its owner was deleted", metadata: ["credential_id": "\(id)", "reason": "\(error)"])
            }
        }
        return (done, failed)
    }
}
