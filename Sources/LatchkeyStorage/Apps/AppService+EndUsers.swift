import Foundation
public import LatchkeyCore
import SQLKit

extension AppService {
    /// A page of the app's end users with their counts.
    public func endUsers(appID: String, tenantID: String, limit: Int, cursor: String?) async throws -> EndUserPage {
        try await endUsers.list(appID: appID, tenantID: tenantID, limit: limit, cursor: cursor)
    }

    /// The end user `externalID` of the app, created on first use; a name and email given are stored on it.
    public func findOrCreateEndUser(app: App, externalID: String, displayName: String?, email: String?) async throws -> EndUser {
        try await database.write { db in
            var user = try await vault.directory.findOrCreateEndUser(
                tenantID: app.tenantID,
                appID: app.id,
                externalID: externalID,
                now: clock.now,
                on: db
            )
            try await endUsers.updateProfile(id: user.id, displayName: displayName, email: email, on: db)
            user.displayName = displayName ?? user.displayName
            user.email = email ?? user.email
            return user
        }
    }

    /// Deletes the end user `externalID` of the app (their erasure): their credentials are revoked at the providers
    /// (best effort, each recorded) and deleted, then the end user and their audit key, so that what audit events
    /// hold of them reads `erased`. Audited as `end_user.delete` with a fingerprint of their id. Not found when the
    /// app has no such end user.
    public func deleteEndUser(
        appID: String,
        externalID: String,
        tenantID: String,
        actor: AuditActor,
        revokeAndDelete: RevokeAndDelete
    ) async throws {
        guard let user = try await endUsers.find(appID: appID, externalID: externalID, tenantID: tenantID) else {
            throw LatchkeyError(.notFound, "This app has no end user with that externalUserId.")
        }
        let ids = try await endUsers.credentialIDs(endUserID: user.id, tenantID: tenantID)
        let (done, failed) = await revokeAll(ids, tenantID: tenantID, actor: actor, revokeAndDelete)
        try await database.transaction { db in
            _ = try await endUsers.delete(id: user.id, tenantID: tenantID, on: db)
            // Crypto-shredding: what earlier audit events hold of them was sealed under this key.
            try await audit.personKeys?.destroy(persons: [user.id], tenantID: tenantID, on: db)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "end_user.delete",
                    target: keyring.fingerprint(user.id),
                    details: ["app_id": appID, "credentials_deleted": String(done), "credentials_not_revoked": String(failed)]
                ),
                tenantID: tenantID,
                on: db
            )
        }
        audit.personKeys?.evict(persons: [user.id], tenantID: tenantID)
    }
}
