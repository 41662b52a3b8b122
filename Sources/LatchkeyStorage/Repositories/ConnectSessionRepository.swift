public import Foundation
public import LatchkeyCore
import SQLKit

/// One connect attempt: the OAuth `state` (stored as an HMAC), the browser it is bound to, the PKCE verifier
/// (encrypted), and what became of it.
public struct ConnectSession: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pending, exchanging, completed, failed
    }
    public var id: String
    public var tenantID: String
    public var appID: String
    public var integrationID: String
    public var endUserID: String
    public var browserHash: String
    public var nonce: String?
    public var redirectURI: String
    public var scopes: [String]
    public var templateValues: [String: String]
    public var reconnectCredentialID: String?
    public var status: Status
    public var error: String?
    public var credentialID: String?
    public var createdAt: Date
    public var stateExpiresAt: Date
    public var expiresAt: Date

    public init(
        id: String,
        tenantID: String,
        appID: String,
        integrationID: String,
        endUserID: String,
        browserHash: String,
        nonce: String?,
        redirectURI: String,
        scopes: [String],
        templateValues: [String: String],
        reconnectCredentialID: String?,
        status: Status,
        error: String?,
        credentialID: String?,
        createdAt: Date,
        stateExpiresAt: Date,
        expiresAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.appID = appID
        self.integrationID = integrationID
        self.endUserID = endUserID
        self.browserHash = browserHash
        self.nonce = nonce
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.templateValues = templateValues
        self.reconnectCredentialID = reconnectCredentialID
        self.status = status
        self.error = error
        self.credentialID = credentialID
        self.createdAt = createdAt
        self.stateExpiresAt = stateExpiresAt
        self.expiresAt = expiresAt
    }

    /// The context the PKCE verifier is encrypted under.
    public var verifierContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: endUserID, recordID: id, field: "pkce_verifier")
    }
}

/// Connect sessions. The state is looked up by its HMAC and claimed exactly once.
public struct ConnectSessionRepository: Sendable {
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

    /// Moves a pending session to `exchanging`; false when someone else claimed it first (a replayed callback).
    public func claim(id: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE connect_sessions SET status = 'exchanging' WHERE id = \(bind: id) AND status = 'pending'
                  AND state_expires_at > \(bind: now.ms) RETURNING id
                """
            ).first() != nil
        }
    }

    /// Records the outcome; the verifier is erased either way.
    public func finish(id: String, status: ConnectSession.Status, error: String?, credentialID: String?, now: Date) async throws {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE connect_sessions SET status = \(bind: status.rawValue), error = \(bind: error), credential_id = \(bind: credentialID),
                  completed_at = \(bind: now.ms), verifier = NULL WHERE id = \(bind: id)
                """
            ).run()
        }
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
