public import Foundation
public import LatchkeyCore
import SQLKit

/// Connect sessions over SQL (SQLite and PostgreSQL). The state is looked up by its HMAC; every change of status is a
/// transition of ``ExchangeStateMachine``, written fenced on the status it leaves.
public struct ConnectSessionRepository: ConnectSessionStore {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ s: ConnectSession, stateHash: String, sealedVerifier: Data?) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO connect_sessions (id, tenant_id, app_id, integration_id, end_user_id, state_hash, browser_hash, verifier, key_version,
                  nonce, redirect_uri, scopes, template_values, reconnect_credential_id, status, error, credential_id, created_at,
                  state_expires_at, expires_at, completed_at)
                VALUES (\(bind: s.id), \(bind: s.tenantID), \(bind: s.appID), \(bind: s.integrationID), \(bind: s.endUserID), \(bind: stateHash),
                  \(bind: s.browserHash), \(bind: sealedVerifier), \(bind: sealedVerifier.flatMap { try? Keyring.keyVersion(of: $0) }),
                  \(bind: s.nonce), \(bind: s.redirectURI), \(bind: JSONColumn.encode(s.scopes)), \(bind: JSONColumn.encode(s.templateValues)),
                  \(bind: s.reconnectCredentialID), \(bind: s.status.rawValue), NULL, NULL, \(bind: s.createdAt.ms), \(bind: s.stateExpiresAt.ms),
                  \(bind: s.expiresAt.ms), NULL)
                """
            ).run()
        }
    }

    /// The session whose state has this HMAC, with its sealed verifier.
    public func find(stateHash: String) async throws -> (session: ConnectSession, sealedVerifier: Data?)? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT * FROM connect_sessions WHERE state_hash = \(bind: stateHash)").first() else { return nil }
            return (try Self.session(from: row), try row.optionalData("verifier"))
        }
    }

    public func apply(_ transition: ExchangeTransition, id: String, credentialID: String?) async throws -> Bool {
        // The fence: the state the machine moved from, and for a claim an attempt that has not run out.
        let fence: SQLQueryString =
            transition.isClaim
            ? "id = \(bind: id) AND status = \(bind: transition.from.rawValue) AND state_expires_at > \(bind: transition.at.ms)"
            : "id = \(bind: id) AND status = \(bind: transition.from.rawValue)"
        let update: SQLQueryString
        if transition.to.isFinal {
            update = """
                UPDATE connect_sessions SET status = \(bind: transition.to.rawValue), error = \(bind: transition.reason),
                  credential_id = \(bind: credentialID), completed_at = \(bind: transition.at.ms), verifier = NULL WHERE \(fence) RETURNING id
                """
        } else if transition.to == .pending {
            // A new attempt sets its deadline; a reopened session has none until one starts.
            let deadline = transition.attemptDeadline ?? transition.at
            update = """
                UPDATE connect_sessions SET status = \(bind: transition.to.rawValue), state_expires_at = \(bind: deadline.ms)
                  WHERE \(fence) RETURNING id
                """
        } else {
            update = "UPDATE connect_sessions SET status = \(bind: transition.to.rawValue) WHERE \(fence) RETURNING id"
        }
        return try await database.write { db in try await db.raw(update).first() != nil }
    }

    /// Deletes sessions past their expiry; returns how many.
    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw("DELETE FROM connect_sessions WHERE expires_at < \(bind: now.ms) RETURNING id").all().count
        }
    }

    static func session(from row: any SQLRow) throws -> ConnectSession {
        ConnectSession(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            appID: try row.string("app_id"),
            integrationID: try row.string("integration_id"),
            endUserID: try row.string("end_user_id"),
            browserHash: try row.string("browser_hash"),
            nonce: try row.optionalString("nonce"),
            redirectURI: try row.string("redirect_uri"),
            scopes: try row.stringArray("scopes", table: "connect_sessions"),
            templateValues: try row.stringMap("template_values", table: "connect_sessions"),
            reconnectCredentialID: try row.optionalString("reconnect_credential_id"),
            status: ConnectSession.Status(rawValue: try row.string("status")) ?? .failed,
            error: try row.optionalString("error"),
            credentialID: try row.optionalString("credential_id"),
            createdAt: try row.date("created_at"),
            stateExpiresAt: try row.date("state_expires_at"),
            expiresAt: try row.date("expires_at")
        )
    }
}
