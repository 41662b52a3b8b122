public import Foundation
import LatchkeyCore
import SQLKit

/// Authorization codes (`oauth_codes`) and tokens (`oauth_tokens`), by their HMACs. Every single-use step (a code
/// redeemed, a refresh token rotated) is a fenced update in the transaction that inserts what it issues; concurrent
/// steps share that transaction (`OAuthIssueBatch`), so a busy token endpoint writes a few statements per batch
/// instead of five per request.
public struct OAuthTokenRepository: Sendable {
    let database: Database
    private let issues: WriteBatcher<OAuthIssueBatch.Claim, Bool>

    public init(database: Database) {
        self.database = database
        self.issues = WriteBatcher { claims in
            try await database.transaction(invalidatesCaches: false) { db in try await OAuthIssueBatch.write(claims, on: db) }
        }
    }

    // MARK: Codes

    public func insertCode(_ code: OAuthCodeRecord) async throws {
        try await database.write { db in
            try await db.raw(
                """
                INSERT INTO oauth_codes (code_hash, tenant_id, grant_id, client_id, user_id, redirect_uri, code_challenge, resource,
                  scopes, status, created_at, expires_at, used_at)
                VALUES (\(bind: code.codeHash), \(bind: code.tenantID), \(bind: code.grantID), \(bind: code.clientID),
                  \(bind: code.userID), \(bind: code.redirectURI), \(bind: code.codeChallenge), \(bind: code.resource),
                  \(bind: JSONColumn.encode(code.scopes)), \(bind: code.status), \(bind: code.createdAt.ms),
                  \(bind: code.expiresAt.ms), NULL)
                """
            ).run()
        }
    }

    /// The code with this HMAC and its grant (nil when the grant is gone), in one read.
    public func findCode(hash: String) async throws -> (code: OAuthCodeRecord, grant: OAuthGrantRecord?)? {
        try await database.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT c.*, g.id AS g_id, g.tenant_id AS g_tenant_id, g.user_id AS g_user_id, g.client_id AS g_client_id,
                      g.services AS g_services, g.scopes AS g_scopes, g.resource AS g_resource, g.created_at AS g_created_at,
                      g.updated_at AS g_updated_at, g.last_used_at AS g_last_used_at, g.revoked_at AS g_revoked_at
                    FROM oauth_codes c LEFT JOIN oauth_grants g ON g.id = c.grant_id WHERE c.code_hash = \(bind: hash)
                    """
                ).first()
            else { return nil }
            let grant = try row.optionalString("g_id") == nil ? nil : try OAuthGrantRepository.grant(from: row, prefix: "g_")
            return (try Self.code(from: row), grant)
        }
    }

    static func code(from row: any SQLRow) throws -> OAuthCodeRecord {
        try StorageError.naming(table: "oauth_codes") {
            OAuthCodeRecord(
                codeHash: try row.string("code_hash"),
                tenantID: try row.string("tenant_id"),
                grantID: try row.string("grant_id"),
                clientID: try row.string("client_id"),
                userID: try row.string("user_id"),
                redirectURI: try row.string("redirect_uri"),
                codeChallenge: try row.string("code_challenge"),
                resource: try row.string("resource"),
                scopes: try row.stringArray("scopes", table: "oauth_codes"),
                status: try row.string("status"),
                createdAt: try row.date("created_at"),
                expiresAt: try row.date("expires_at"),
                usedAt: try row.optionalDate("used_at")
            )
        }
    }

    /// Moves a code from `from` to `to` (fenced on `from`), inserting `tokens` in the same transaction; false, with
    /// nothing written, when the code was not in `from` any more (another redemption won).
    public func moveCode(hash: String, from: String, to: String, at now: Date, issuing tokens: [OAuthTokenRecord]) async throws -> Bool {
        try await issues.submit(OAuthIssueBatch.Claim(target: .code(hash: hash, from: from, to: to), at: now, tokens: tokens))
    }

    /// Revokes every token descending from a code (a replayed code); returns how many were revoked.
    @discardableResult
    public func revokeTokens(issuedFor codeHash: String, now: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw(
                """
                UPDATE oauth_tokens SET revoked_at = \(bind: now.ms) WHERE revoked_at IS NULL
                  AND family_id IN (SELECT family_id FROM oauth_tokens WHERE code_hash = \(bind: codeHash))
                RETURNING id
                """
            ).all().count
        }
    }

    // MARK: Tokens

    /// A token by its HMAC, with its grant.
    public func find(hash: String) async throws -> (token: OAuthTokenRecord, grant: OAuthGrantRecord)? {
        try await database.readPromptly { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT t.*, g.id AS g_id, g.tenant_id AS g_tenant_id, g.user_id AS g_user_id, g.client_id AS g_client_id,
                      g.services AS g_services, g.scopes AS g_scopes, g.resource AS g_resource, g.created_at AS g_created_at,
                      g.updated_at AS g_updated_at, g.last_used_at AS g_last_used_at, g.revoked_at AS g_revoked_at
                    FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = \(bind: hash)
                    """
                ).first()
            else { return nil }
            return (try Self.token(from: row), try OAuthGrantRepository.grant(from: row, prefix: "g_"))
        }
    }

    /// Rotates a refresh token: marks it used (fenced on its being unused and unrevoked) and inserts `tokens`, in
    /// one transaction; false, with nothing written, when it was already used or revoked.
    public func rotate(refreshHash: String, at now: Date, issuing tokens: [OAuthTokenRecord]) async throws -> Bool {
        try await issues.submit(OAuthIssueBatch.Claim(target: .refresh(hash: refreshHash), at: now, tokens: tokens))
    }

    /// Revokes every token of a family (a reused refresh token, a revoked refresh token); returns how many.
    @discardableResult
    public func revokeFamily(_ familyID: String, now: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw(
                "UPDATE oauth_tokens SET revoked_at = \(bind: now.ms) WHERE family_id = \(bind: familyID) AND revoked_at IS NULL RETURNING id"
            ).all().count
        }
    }

    /// Revokes one token.
    public func revoke(hash: String, now: Date) async throws {
        try await database.write { db in
            try await db.raw("UPDATE oauth_tokens SET revoked_at = \(bind: now.ms) WHERE token_hash = \(bind: hash) AND revoked_at IS NULL")
                .run()
        }
    }

    static func token(from row: any SQLRow) throws -> OAuthTokenRecord {
        try StorageError.naming(table: "oauth_tokens") {
            OAuthTokenRecord(
                tokenHash: try row.string("token_hash"),
                id: try row.string("id"),
                kind: OAuthTokenRecord.Kind(rawValue: try row.string("kind")) ?? .access,
                tenantID: try row.string("tenant_id"),
                grantID: try row.string("grant_id"),
                clientID: try row.string("client_id"),
                userID: try row.string("user_id"),
                familyID: try row.string("family_id"),
                parentID: try row.optionalString("parent_id"),
                codeHash: try row.optionalString("code_hash"),
                scopes: try row.stringArray("scopes", table: "oauth_tokens"),
                resource: try row.string("resource"),
                createdAt: try row.date("created_at"),
                expiresAt: try row.date("expires_at"),
                usedAt: try row.optionalDate("used_at"),
                revokedAt: try row.optionalDate("revoked_at")
            )
        }
    }
}
