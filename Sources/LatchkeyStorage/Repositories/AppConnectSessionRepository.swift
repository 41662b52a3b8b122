public import Foundation
public import LatchkeyCore
public import SQLKit

/// Apps' connect sessions over SQL (SQLite and PostgreSQL). The token and each attempt's OAuth `state` are looked up
/// by their HMAC; every change of status is a transition of ``ExchangeStateMachine``, written fenced on the status
/// it leaves, so of two requests racing for one session exactly one moves it.
public struct AppConnectSessionRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Stores a new session under the HMAC of its token, with the token sealed (for the page that lets a person who
    /// denied access try again).
    public func insert(_ s: AppConnectSession, tokenHash: String, sealedToken: Data) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO app_connect_sessions (id, tenant_id, app_id, integration_id, end_user_id, connection_id, token_hash, token_sealed,
                  browser_hash, redirect_url, reconnect_credential_id, status, error, credential_id, state_hash, verifier, key_version,
                  nonce, scopes, template_values, attempt_expires_at, created_at, expires_at, completed_at)
                VALUES (\(bind: s.id), \(bind: s.tenantID), \(bind: s.appID), \(bind: s.integrationID), \(bind: s.endUserID),
                  \(bind: s.connectionID), \(bind: tokenHash), \(bind: sealedToken), NULL, \(bind: s.redirectURL), \(bind: s.reconnectCredentialID),
                  \(bind: s.status.rawValue), NULL, NULL, NULL, NULL, NULL, NULL, \(bind: JSONColumn.encode(s.scopes)),
                  \(bind: JSONColumn.encode(s.templateValues)), NULL, \(bind: s.createdAt.ms), \(bind: s.expiresAt.ms), NULL)
                """
            ).run()
        }
    }

    /// The session `id` of the app; nil when it is another app's or unknown.
    public func find(id: String, appID: String, tenantID: String) async throws -> AppConnectSession? {
        try await database.read { db in
            try await db.raw(
                "SELECT * FROM app_connect_sessions WHERE id = \(bind: id) AND app_id = \(bind: appID) AND tenant_id = \(bind: tenantID)"
            ).first().map(Self.session(from:))
        }
    }

    /// The session whose token has this HMAC.
    public func find(tokenHash: String) async throws -> AppConnectSession? {
        try await database.read { db in
            try await db.raw("SELECT * FROM app_connect_sessions WHERE token_hash = \(bind: tokenHash)").first().map(Self.session(from:))
        }
    }

    /// The session whose current attempt's state has this HMAC, with the attempt's sealed verifier and the sealed token.
    public func find(stateHash: String) async throws -> (session: AppConnectSession, sealedVerifier: Data?, sealedToken: Data)? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT * FROM app_connect_sessions WHERE state_hash = \(bind: stateHash)").first() else {
                return nil
            }
            return (try Self.session(from: row), try row.optionalData("verifier"), try row.data("token_sealed"))
        }
    }

    /// Binds the session to the browser `browserHash` if it is bound to none yet. True when this call bound it.
    public func bind(id: String, browserHash: String) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                "UPDATE app_connect_sessions SET browser_hash = \(bind: browserHash) WHERE id = \(bind: id) AND browser_hash IS NULL RETURNING id"
            ).first() != nil
        }
    }

    /// What a new provider attempt records besides its transition.
    public struct Attempt: Sendable {
        public var stateHash: String
        public var sealedVerifier: Data?
        public var nonce: String?
        public var scopes: [String]
        public var templateValues: [String: String]

        public init(stateHash: String, sealedVerifier: Data?, nonce: String?, scopes: [String], templateValues: [String: String]) {
            self.stateHash = stateHash
            self.sealedVerifier = sealedVerifier
            self.nonce = nonce
            self.scopes = scopes
            self.templateValues = templateValues
        }
    }

    /// Starts a new attempt (`pending → pending` with its deadline): the previous attempt's state stops resolving.
    /// True when the session was still pending.
    public func beginAttempt(_ transition: ExchangeTransition, id: String, attempt: Attempt) async throws -> Bool {
        let deadline = transition.attemptDeadline ?? transition.at
        let keyVersion = attempt.sealedVerifier.flatMap { try? Keyring.keyVersion(of: $0) }
        return try await database.write { db in
            try await db.raw(
                """
                UPDATE app_connect_sessions SET state_hash = \(bind: attempt.stateHash), verifier = \(bind: attempt.sealedVerifier),
                  key_version = \(bind: keyVersion), nonce = \(bind: attempt.nonce), scopes = \(bind: JSONColumn.encode(attempt.scopes)),
                  template_values = \(bind: JSONColumn.encode(attempt.templateValues)), attempt_expires_at = \(bind: deadline.ms)
                WHERE id = \(bind: id) AND status = \(bind: transition.from.rawValue) RETURNING id
                """
            ).first() != nil
        }
    }

    /// Applies `transition` to session `id` if it is still in `transition.from` (and, for a claim, its attempt's
    /// deadline is still after `transition.at`). Leaving `exchanging` erases the attempt (its state and verifier); a
    /// final state records `transition.reason` as the error and `credentialID` as the result. True when this call
    /// moved the session.
    public func apply(_ transition: ExchangeTransition, id: String, credentialID: String?) async throws -> Bool {
        try await database.write { db in try await apply(transition, id: id, credentialID: credentialID, on: db) }
    }

    /// ``apply(_:id:credentialID:)`` inside the caller's transaction, so that what follows from the move (an event)
    /// is written exactly when the move is.
    public func apply(_ transition: ExchangeTransition, id: String, credentialID: String?, on db: any SQLDatabase) async throws -> Bool {
        let fence: SQLQueryString =
            transition.isClaim
            ? "id = \(bind: id) AND status = \(bind: transition.from.rawValue) AND attempt_expires_at > \(bind: transition.at.ms)"
            : "id = \(bind: id) AND status = \(bind: transition.from.rawValue)"
        let update: SQLQueryString
        if transition.to.isFinal {
            update = """
                UPDATE app_connect_sessions SET status = \(bind: transition.to.rawValue), error = \(bind: transition.reason),
                  credential_id = \(bind: credentialID), completed_at = \(bind: transition.at.ms), verifier = NULL, state_hash = NULL
                  WHERE \(fence) RETURNING id
                """
        } else if transition.to == .pending {
            // Reopened after a retryable failure: no live attempt until a new one starts.
            update = """
                UPDATE app_connect_sessions SET status = \(bind: transition.to.rawValue), error = \(bind: transition.reason),
                  attempt_expires_at = NULL, verifier = NULL, state_hash = NULL WHERE \(fence) RETURNING id
                """
        } else {
            update = "UPDATE app_connect_sessions SET status = \(bind: transition.to.rawValue) WHERE \(fence) RETURNING id"
        }
        return try await db.raw(update).first() != nil
    }

    /// Deletes sessions that ended (or expired) before `cutoff`; returns how many.
    @discardableResult
    public func purge(before cutoff: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw("DELETE FROM app_connect_sessions WHERE expires_at < \(bind: cutoff.ms) RETURNING id").all().count
        }
    }

    static func session(from row: any SQLRow) throws -> AppConnectSession {
        var session = AppConnectSession(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            appID: try row.string("app_id"),
            integrationID: try row.string("integration_id"),
            endUserID: try row.string("end_user_id"),
            connectionID: try row.string("connection_id"),
            redirectURL: try row.optionalString("redirect_url"),
            reconnectCredentialID: try row.optionalString("reconnect_credential_id"),
            createdAt: try row.date("created_at")
        )
        session.browserHash = try row.optionalString("browser_hash")
        session.status = AppConnectSession.Status(rawValue: try row.string("status")) ?? .failed
        session.error = try row.optionalString("error")
        session.credentialID = try row.optionalString("credential_id")
        session.nonce = try row.optionalString("nonce")
        session.scopes = try row.stringArray("scopes", table: "app_connect_sessions")
        session.templateValues = try row.stringMap("template_values", table: "app_connect_sessions")
        session.attemptExpiresAt = try row.optionalDate("attempt_expires_at")
        session.expiresAt = try row.date("expires_at")
        session.completedAt = try row.optionalDate("completed_at")
        return session
    }
}

extension AppConnectSessionRepository {
    /// The app's own id for the end user `endUserID`.
    public func externalUserID(endUserID: String, tenantID: String) async throws -> String? {
        try await database.read { db in
            try await db.raw("SELECT external_id FROM end_users WHERE id = \(bind: endUserID) AND tenant_id = \(bind: tenantID)").first()?
                .string("external_id")
        }
    }
}
