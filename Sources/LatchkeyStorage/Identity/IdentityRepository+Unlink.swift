public import LatchkeyCore
import SQLKit

extension IdentityRepository {
    /// A person removes one of their ways to sign in (Settings › Linked accounts): refused (409) for their last STRONG
    /// one, as `delete` refuses it. Unlinking the password also removes the password itself, so that it no longer signs
    /// in; the sessions signed in with the identity end, all but the one whose id hash is `keepingSession`. Returns the
    /// removed identity.
    public func unlink(id: String, userID: String, tenantID: String, keepingSession: String?) async throws -> Identity {
        let removed = try await delete(id: id, userID: userID, tenantID: tenantID)
        try await database.write { db in
            if removed.method == .password {
                try await db.raw(
                    "UPDATE users SET password_hash = NULL WHERE id = \(bind: userID) AND tenant_id = \(bind: tenantID)"
                ).run()
            }
            try await db.raw(
                """
                DELETE FROM web_sessions WHERE identity_id = \(bind: removed.id) AND user_id = \(bind: userID)
                  AND id_hash <> \(bind: keepingSession ?? "")
                """
            ).run()
        }
        return removed
    }
}
