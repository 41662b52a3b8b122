import Foundation
import LatchkeyCore
import SQLKit

/// The single-use steps of the token endpoint, written together: codes redeemed and refresh tokens rotated by
/// concurrent requests are claimed with one fenced `UPDATE … RETURNING` per kind, and the tokens of every winning
/// claim are inserted with one statement, all in one transaction.
enum OAuthIssueBatch {
    struct Claim: Sendable {
        enum Target: Sendable, Hashable {
            /// A code moving from `from` to `to`.
            case code(hash: String, from: String, to: String)
            /// A refresh token marked used, if unused and unrevoked.
            case refresh(hash: String)
        }

        let target: Target
        let at: Date
        let tokens: [OAuthTokenRecord]
    }

    /// Each claim's outcome, in order: true when it won (its tokens are inserted), false when its code or refresh
    /// token was no longer claimable — already used, revoked, or claimed by an earlier claim of the same batch.
    static func write(_ claims: [Claim], on db: any SQLDatabase) async throws -> [Bool] {
        guard let at = claims.map(\.at).max() else { return [] }
        var claimed = Set<Claim.Target>()
        // Codes, one statement per transition (in practice one: pending → redeemed).
        var transitions: [String: [String]] = [:]
        var refreshes: [String] = []
        for claim in claims {
            switch claim.target {
            case .code(let hash, let from, let to): transitions["\(from)\u{0}\(to)", default: []].append(hash)
            case .refresh(let hash): refreshes.append(hash)
            }
        }
        for (transition, hashes) in transitions.sorted(by: { $0.key < $1.key }) {
            let parts = transition.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            var query = SQLQueryString("UPDATE oauth_codes SET status = ")
            query.appendInterpolation(bind: parts[1])
            query.appendInterpolation(unsafeRaw: ", used_at = ")
            query.appendInterpolation(bind: at.ms)
            query.appendInterpolation(unsafeRaw: " WHERE status = ")
            query.appendInterpolation(bind: parts[0])
            query.appendInterpolation(unsafeRaw: " AND code_hash IN (")
            query.appendInterpolation(binds: Array(Set(hashes)))
            query.appendInterpolation(unsafeRaw: ") RETURNING code_hash")
            for row in try await db.raw(query).all() {
                claimed.insert(.code(hash: try row.string("code_hash"), from: parts[0], to: parts[1]))
            }
        }
        if !refreshes.isEmpty {
            var query = SQLQueryString("UPDATE oauth_tokens SET used_at = ")
            query.appendInterpolation(bind: at.ms)
            query.appendInterpolation(unsafeRaw: " WHERE kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL AND token_hash IN (")
            query.appendInterpolation(binds: Array(Set(refreshes)))
            query.appendInterpolation(unsafeRaw: ") RETURNING token_hash")
            for row in try await db.raw(query).all() { claimed.insert(.refresh(hash: try row.string("token_hash"))) }
        }
        // The first claim of a target wins it; a second one in the same batch finds it taken.
        let outcomes = claims.map { claimed.remove($0.target) != nil }
        let issued = zip(claims, outcomes).filter(\.1).flatMap(\.0.tokens)
        if !issued.isEmpty { try await insert(issued, on: db) }
        return outcomes
    }

    /// One multi-row `INSERT` of `tokens`.
    static func insert(_ tokens: [OAuthTokenRecord], on db: any SQLDatabase) async throws {
        var query = SQLQueryString(
            """
            INSERT INTO oauth_tokens (token_hash, id, kind, tenant_id, grant_id, client_id, user_id, family_id, parent_id, code_hash,
              scopes, resource, created_at, expires_at, used_at, revoked_at) VALUES
            """
        )
        for (index, token) in tokens.enumerated() {
            query.appendInterpolation(unsafeRaw: index > 0 ? ", (" : " (")
            let values: [any Encodable & Sendable] = [
                token.tokenHash, token.id, token.kind.rawValue, token.tenantID, token.grantID, token.clientID, token.userID,
                token.familyID, token.parentID, token.codeHash, JSONColumn.encode(token.scopes), token.resource, token.createdAt.ms,
                token.expiresAt.ms,
            ]
            query.appendInterpolation(binds: values)
            query.appendInterpolation(unsafeRaw: ", NULL, NULL)")
        }
        try await db.raw(query).run()
    }
}
