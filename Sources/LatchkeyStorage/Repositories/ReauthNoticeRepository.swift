public import Foundation
import LatchkeyCore
import SQLKit

/// A credential that needs its owner to reconnect, with where to tell them: the console user it belongs to.
public struct ReauthNotice: Sendable, Equatable {
    public var credentialID: String
    public var tenantID: String
    public var integrationKey: String
    public var provider: String
    public var displayName: String?
    public var providerAccount: String?
    public var email: String
    public var userName: String
}

/// Which people still have to be told that a credential of theirs needs reconnecting, and the mark that they were:
/// `credentials.reauth_notified_at`, set when the email goes (claimed first, so one instance of several sends it) and
/// cleared whenever the credential is written in another status — a reconnect — so the next time it needs
/// reconnecting is told again. Failed retries while it needs reconnecting leave the mark, so they send nothing.
public struct ReauthNoticeRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Up to `limit` credentials of console users (the console app's end users are its users, by id) that need reconnecting and whose owner was not told yet.
    public func pending(limit: Int) async throws -> [ReauthNotice] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT c.id AS id, c.tenant_id AS tenant_id, c.provider_account AS provider_account, i.key AS key,
                  i.provider AS provider, i.display_name AS display_name, u.email AS email, u.display_name AS user_name
                FROM credentials c JOIN connections co ON co.id = c.connection_id JOIN integrations i ON i.id = co.integration_id
                  JOIN end_users e ON e.id = c.end_user_id JOIN apps a ON a.id = e.app_id AND a.kind = \(bind: App.Kind.console.rawValue)
                  JOIN users u ON u.id = e.external_id AND u.tenant_id = c.tenant_id
                WHERE c.status = \(bind: CredentialStatus.needsReauth.rawValue) AND c.reauth_notified_at IS NULL
                ORDER BY c.updated_at LIMIT \(bind: limit)
                """
            ).all().map { row in
                ReauthNotice(
                    credentialID: try row.string("id"),
                    tenantID: try row.string("tenant_id"),
                    integrationKey: try row.string("key"),
                    provider: try row.string("provider"),
                    displayName: try row.optionalString("display_name"),
                    providerAccount: try row.optionalString("provider_account"),
                    email: try row.string("email"),
                    userName: try row.string("user_name")
                )
            }
        }
    }

    /// Marks the credential's owner as told at `now`; false when another sender did it first or it was reconnected.
    public func claim(credentialID: String, now: Date) async throws -> Bool {
        try await database.write(invalidatesCaches: false) { db in
            try await db.raw(
                """
                UPDATE credentials SET reauth_notified_at = \(bind: now.ms)
                WHERE id = \(bind: credentialID) AND status = \(bind: CredentialStatus.needsReauth.rawValue) AND reauth_notified_at IS NULL
                RETURNING id
                """
            ).first() != nil
        }
    }

    /// Takes the mark back after the email could not be sent, so that a later pass tries again.
    public func release(credentialID: String) async throws {
        try await database.write(invalidatesCaches: false) { db in
            try await db.raw("UPDATE credentials SET reauth_notified_at = NULL WHERE id = \(bind: credentialID)").run()
        }
    }
}
