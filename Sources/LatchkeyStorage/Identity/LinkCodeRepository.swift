public import Foundation
public import LatchkeyCore
import SQLKit

/// The `link_codes` table: the short-lived, single-use codes an app's user types on `/link` to join the account the
/// app vouches for (a WEAK identity such as Slack `T1/U2`) to their own. Codes are kept as keyed hashes only: one of
/// the letters (to find the code) and one of the whole code (to check it).
public struct LinkCodeRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A code about to be issued: the account it links and its two hashes.
    public struct NewCode: Sendable {
        public var tenantID: String
        public var appID: String
        public var provider: String
        public var subject: String
        public var displayName: String?
        public var createdAt: Date
        public var expiresAt: Date

        public init(
            tenantID: String,
            appID: String,
            provider: String,
            subject: String,
            displayName: String?,
            createdAt: Date,
            expiresAt: Date
        ) {
            self.tenantID = tenantID
            self.appID = appID
            self.provider = provider
            self.subject = subject
            self.displayName = displayName
            self.createdAt = createdAt
            self.expiresAt = expiresAt
        }
    }

    /// The hashes of one candidate code: of its letters and of the whole code.
    public struct Hashes: Sendable {
        public var lookup: String
        public var code: String

        public init(lookup: String, code: String) {
            self.lookup = lookup
            self.code = code
        }
    }

    /// A stored code, without its hashes.
    public struct StoredCode: Sendable, Equatable {
        public var id: String
        public var tenantID: String
        public var appID: String
        public var provider: String
        public var subject: String
        public var displayName: String?
        public var expiresAt: Date
    }

    /// What typing a code came to.
    public enum Redemption: Sendable, Equatable {
        /// The code was right and live: the identity is now the person's and the code is used up.
        case linked(StoredCode, Identity)
        /// No live or recent code has these letters.
        case unknown
        /// The right code, past its 10 minutes.
        case expired
        /// The right code, already used (or used up by wrong guesses).
        case used
        /// The letters of a live code with the wrong digits; `remaining` more wrong guesses use it up.
        case wrong(remaining: Int)
    }

    /// Issues a code for `new`: the first of `candidates` whose letters no live code of the tenant has. The oldest
    /// live codes of the same account beyond `keepLive - 1` are dropped (a new code replaces the oldest), and codes
    /// that ended more than a day ago are purged. Returns the index of the candidate used.
    public func issue(_ new: NewCode, candidates: [Hashes], keepLive: Int, now: Date) async throws -> Int {
        try await database.transaction { db in
            try await db.raw("DELETE FROM link_codes WHERE tenant_id = \(bind: new.tenantID) AND expires_at < \(bind: now.ms - 86_400_000)").run()
            let live = try await db.raw(
                """
                SELECT id FROM link_codes WHERE tenant_id = \(bind: new.tenantID) AND app_id = \(bind: new.appID)
                  AND provider = \(bind: new.provider) AND subject = \(bind: new.subject) AND used_at IS NULL
                  AND expires_at > \(bind: now.ms) ORDER BY created_at DESC, id DESC
                """
            ).all().map { try $0.string("id") }
            for id in live.dropFirst(max(0, keepLive - 1)) {
                try await db.raw("DELETE FROM link_codes WHERE id = \(bind: id)").run()
            }
            for (index, candidate) in candidates.enumerated() {
                let taken = try await db.raw(
                    """
                    SELECT id FROM link_codes WHERE tenant_id = \(bind: new.tenantID) AND lookup_hash = \(bind: candidate.lookup)
                      AND used_at IS NULL AND expires_at > \(bind: now.ms)
                    """
                ).first()
                guard taken == nil else { continue }
                try await db.raw(
                    """
                    INSERT INTO link_codes (id, tenant_id, app_id, provider, subject, display_name, lookup_hash, code_hash, created_at,
                      expires_at, failed_attempts)
                    VALUES (\(bind: NewID.make()), \(bind: new.tenantID), \(bind: new.appID), \(bind: new.provider), \(bind: new.subject),
                      \(bind: new.displayName), \(bind: candidate.lookup), \(bind: candidate.code), \(bind: new.createdAt.ms),
                      \(bind: new.expiresAt.ms), 0)
                    """
                ).run()
                return index
            }
            throw LatchkeyError(.unavailable, "Too many link codes are waiting to be used right now. Try again in a few minutes.", retryAfter: 60)
        }
    }

    /// How many wrong guesses the codes of one account (provider and subject) take together.
    public struct AccountGuessLimit: Sendable {
        /// Wrong guesses against all of an account's codes issued within ``window``; reaching it uses every live code
        /// of the account up, and so does each further wrong guess against a newer one.
        public var maximumWrongGuesses: Int
        public var window: TimeInterval

        public init(maximumWrongGuesses: Int, window: TimeInterval) {
            self.maximumWrongGuesses = maximumWrongGuesses
            self.window = window
        }
    }

    /// Checks a typed code within the tenant and, when it is right and live, links its account to `userID` (a new
    /// WEAK identity `identityID`) and uses the code up, in one transaction. A wrong guess of a live code's digits
    /// counts against that code (after `maximumWrongGuesses` it is used up) and against its account (`perAccount`:
    /// once its codes took that many wrong guesses, all of them are used up). A conflict (the account is already
    /// someone's) is thrown and leaves the code as it was.
    public func redeem(
        _ hashes: Hashes,
        tenantID: String,
        userID: String,
        identityID: String,
        now: Date,
        maximumWrongGuesses: Int,
        perAccount: AccountGuessLimit
    ) async throws -> Redemption {
        try await database.transaction { db in
            let rows = try await db.raw(
                """
                SELECT * FROM link_codes WHERE tenant_id = \(bind: tenantID) AND lookup_hash = \(bind: hashes.lookup)
                ORDER BY created_at DESC, id DESC\(unsafeRaw: database.forUpdate)
                """
            ).all()
            var matched: (any SQLRow)?
            for row in rows where ConstantTime.equals(try row.string("code_hash"), hashes.code) { matched = row }
            guard let row = matched else {
                let live = try rows.first { try $0.optionalInt("used_at") == nil && $0.int("expires_at") > now.ms }
                guard let live else { return .unknown }
                let failures = try live.int("failed_attempts") + 1
                let id = try live.string("id")
                if failures >= maximumWrongGuesses {
                    try await db.raw("UPDATE link_codes SET failed_attempts = \(bind: failures), used_at = \(bind: now.ms) WHERE id = \(bind: id)")
                        .run()
                } else {
                    try await db.raw("UPDATE link_codes SET failed_attempts = \(bind: failures) WHERE id = \(bind: id)").run()
                }
                // The account's codes share a budget, so that guessing spread over several codes (or people) is limited too.
                let account = (provider: try live.string("provider"), subject: try live.string("subject"))
                let since = now.addingTimeInterval(-perAccount.window).ms
                let total =
                    try await db.raw(
                        """
                        SELECT COALESCE(SUM(failed_attempts), 0) AS total FROM link_codes WHERE tenant_id = \(bind: tenantID)
                          AND provider = \(bind: account.provider) AND subject = \(bind: account.subject) AND created_at > \(bind: since)
                        """
                    ).first()?.int("total") ?? 0
                if total >= perAccount.maximumWrongGuesses {
                    try await db.raw(
                        """
                        UPDATE link_codes SET used_at = \(bind: now.ms) WHERE tenant_id = \(bind: tenantID) AND provider = \(bind: account.provider)
                          AND subject = \(bind: account.subject) AND used_at IS NULL
                        """
                    ).run()
                    return .wrong(remaining: 0)
                }
                return .wrong(remaining: max(0, maximumWrongGuesses - failures))
            }
            if try row.optionalInt("used_at") != nil { return .used }
            if try row.int("expires_at") <= now.ms { return .expired }
            let code = try Self.code(from: row)
            let identity = Identity(
                id: identityID,
                tenantID: tenantID,
                userID: userID,
                method: .app,
                provider: code.provider,
                subject: code.subject,
                displayName: code.displayName,
                appID: code.appID,
                createdAt: now
            )
            // Checked first: on PostgreSQL a failed insert would end the transaction.
            let owner = try await db.raw(
                """
                SELECT user_id FROM identities WHERE tenant_id = \(bind: tenantID) AND provider = \(bind: code.provider)
                  AND subject = \(bind: code.subject)
                """
            ).first()?.string("user_id")
            if let owner {
                throw LatchkeyError.conflict(
                    owner == userID
                        ? "This account is already linked to you; there is nothing more to do."
                        : "This account is already linked to another person. They can unlink it in Settings, then you can link it."
                )
            }
            try await IdentityRepository(database: database).insert(identity, on: db)
            try await db.raw("UPDATE link_codes SET used_at = \(bind: now.ms) WHERE id = \(bind: code.id)").run()
            return .linked(code, identity)
        }
    }

    static func code(from row: any SQLRow) throws -> StoredCode {
        StoredCode(
            id: try row.string("id"),
            tenantID: try row.string("tenant_id"),
            appID: try row.string("app_id"),
            provider: try row.string("provider"),
            subject: try row.string("subject"),
            displayName: try row.optionalString("display_name"),
            expiresAt: try row.date("expires_at")
        )
    }
}
