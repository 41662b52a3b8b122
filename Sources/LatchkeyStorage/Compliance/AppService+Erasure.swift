import Foundation
public import LatchkeyCore
import Logging
import SQLKit

/// What an erasure did.
public struct ErasureSummary: Sendable, Equatable {
    public var credentialsDeleted: Int
    public var credentialsNotRevoked: Int
    public var endUsersDeleted: Int
}

extension AppService {
    /// Erases a console user (a data-subject request): every credential of their end users is revoked at its provider
    /// (best effort, each recorded) and deleted, then their end users, identities, passkeys, second factor, sessions
    /// and the grants and tokens of the authorization server go, and the user, and their audit keys (the identifiers
    /// earlier audit events hold of them then read `erased`). Not found when the tenant has no such
    /// user (an erased one included); refused (409) for the tenant's last administrator. Audited as `user.erase`
    /// with a fingerprint of the id, not the id or the email.
    public func eraseUser(userID: String, tenantID: String, actor: AuditActor, revokeAndDelete: RevokeAndDelete) async throws -> ErasureSummary {
        let users = UserRepository(database: vault.database)
        guard let user = try await users.user(id: userID, tenantID: tenantID) else { throw Self.noSuchUser }
        let admins = try await users.list(tenantID: tenantID).filter(\.isAdmin).map(\.id)
        if admins == [userID] { throw TenantService.lastAdministrator(user, doing: "erased") }
        let endUserIDs = try await vault.database.read { db in
            try await db.raw(
                "SELECT e.id FROM end_users e WHERE \(PersonRecords.isPerson("e", userID: userID, tenantID: tenantID)) AND e.tenant_id = \(bind: tenantID)"
            ).all().map { try $0.string("id") }
        }
        var credentialIDs: [String] = []
        for id in endUserIDs { credentialIDs += try await endUsers.credentialIDs(endUserID: id, tenantID: tenantID) }
        let (done, failed) = await revokeAll(credentialIDs, tenantID: tenantID, actor: actor, revokeAndDelete)
        let summary = try await vault.database.transaction { db in
            let admins = try await users.lockedAdminIDs(tenantID: tenantID, on: db)
            guard let user = try await users.user(id: userID, tenantID: tenantID, on: db) else { throw Self.noSuchUser }
            if admins == [userID] { throw TenantService.lastAdministrator(user, doing: "erased") }
            var removed = 0
            for id in endUserIDs {
                if try await endUsers.delete(id: id, tenantID: tenantID, on: db) { removed += 1 }
            }
            try await db.raw(
                """
                DELETE FROM link_codes WHERE tenant_id = \(bind: tenantID) AND EXISTS (SELECT 1 FROM identities d WHERE d.user_id = \(bind: userID)
                AND d.tenant_id = link_codes.tenant_id AND d.provider = link_codes.provider AND d.subject = link_codes.subject)
                """
            ).run()
            try await db.raw("DELETE FROM passkeys WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
            try await db.raw("DELETE FROM webauthn_challenges WHERE user_id = \(bind: userID) AND tenant_id = \(bind: tenantID)").run()
            try await users.delete(userID: userID, tenantID: tenantID, on: db)
            // Crypto-shredding: what earlier audit events hold of them (as a user and as end users) was sealed under these keys.
            try await audit.personKeys?.destroy(persons: [userID] + endUserIDs, tenantID: tenantID, on: db)
            let summary = ErasureSummary(credentialsDeleted: done, credentialsNotRevoked: failed, endUsersDeleted: removed)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "user.erase",
                    target: vault.keyring.fingerprint(userID),
                    details: [
                        "credentials_deleted": String(done), "credentials_not_revoked": String(failed), "end_users_deleted": String(removed),
                    ]
                ),
                tenantID: tenantID,
                on: db
            )
            return summary
        }
        audit.personKeys?.evict(persons: [userID] + endUserIDs, tenantID: tenantID)
        logger.info("user erased", metadata: ["credentials": "\(done)", "not_revoked": "\(failed)"])
        return summary
    }

    /// Records that a person's data was exported (`user.export` or `end_user.export`), with a fingerprint of their id.
    public func recordExport(action: String, personID: String, tenantID: String, actor: AuditActor) async throws {
        try await audit.append(AuditRecord(actor: actor, action: action, target: vault.keyring.fingerprint(personID)), tenantID: tenantID)
    }

    public static let noSuchUser = LatchkeyError(.notFound, "This tenant has no user with that id; an erased user is gone for good.")
}
