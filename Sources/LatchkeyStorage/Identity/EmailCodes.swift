public import Foundation
public import LatchkeyCore
import SQLKit

/// One-time sign-in codes sent by email (table `email_codes`): 6 digits, `lifetime` long, single use, dead after
/// `maximumGuesses` wrong guesses. Only the newest code of an address counts. Codes are stored as keyring HMACs bound
/// to their row; addresses and client addresses as HMACs too. Asking for a code behaves the same whether or not the
/// address belongs to someone (a row is written either way, without a code when nobody has the address), so neither
/// the answers nor the limits tell who has an account.
public struct EmailCodes: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any LatchkeyClock
    /// How long a code works.
    public var lifetime: TimeInterval = 600
    /// Wrong guesses a code survives.
    public var maximumGuesses = 5
    /// Codes asked for one address per `window`.
    public var perAddress = 5
    /// Codes asked for from one client address per `window`.
    public var perClient = 10
    public var window: TimeInterval = 900

    public init(database: Database, keyring: Keyring, clock: any LatchkeyClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    /// What asking for a code led to.
    public enum Request: Sendable, Equatable {
        /// Send `code` to the person.
        case send(code: String, user: User)
        /// Nobody of the tenant has the address: send nothing, say the same.
        case noAccount
        /// Too many codes asked for; try again after this many seconds.
        case limited(retryAfter: Int)
    }

    /// What checking a code led to.
    public enum Check: Sendable, Equatable {
        case signedIn(User)
        /// Wrong; this many guesses are left for the code.
        case wrong(guessesLeft: Int)
        /// No code that can still be used: none asked for, used, expired or guessed at too often.
        case dead
    }

    /// Makes a code for `email` (lowercased) of the tenant, unless the address or the client asked too often.
    public func request(email: String, tenantID: String, clientAddress: String?, user: User?) async throws -> Request {
        let now = clock.now
        let addressKey = addressKey(email, tenantID: tenantID)
        let clientKey = keyring.mac(clientAddress ?? "unknown", purpose: "email-code-client")
        let since = now.addingTimeInterval(-window)
        let id = NewID.make()
        let code = Self.newCode()
        return try await database.transaction { db -> Request in
            try await db.raw("DELETE FROM email_codes WHERE created_at < \(bind: now.addingTimeInterval(-86400).ms)").run()
            let recent = try await db.raw(
                """
                SELECT created_at, address_key FROM email_codes WHERE created_at > \(bind: since.ms) AND
                  ((tenant_id = \(bind: tenantID) AND address_key = \(bind: addressKey)) OR client_key = \(bind: clientKey))
                """
            ).all()
            let forAddress = try recent.filter { try $0.string("address_key") == addressKey }.map { try $0.date("created_at") }
            let forClient = try recent.map { try $0.date("created_at") }
            for (times, limit) in [(forAddress, perAddress), (forClient, perClient)] where times.count >= limit {
                let oldest = times.sorted()[times.count - limit]
                return .limited(retryAfter: max(1, Int(oldest.addingTimeInterval(window).timeIntervalSince(now).rounded(.up))))
            }
            try await db.raw(
                """
                INSERT INTO email_codes (id, tenant_id, address_key, client_key, user_id, code_hash, created_at, expires_at, failures)
                VALUES (\(bind: id), \(bind: tenantID), \(bind: addressKey), \(bind: clientKey), \(bind: user?.id),
                  \(bind: user.map { _ in codeHash(code, id: id) }), \(bind: now.ms), \(bind: now.addingTimeInterval(lifetime).ms), 0)
                """
            ).run()
            guard let user else { return .noAccount }
            return .send(code: code, user: user)
        }
    }

    /// Checks `code` against the newest code of `email`. A wrong guess counts against the code (also when nobody has
    /// the address, so the answers are alike); the right one uses it up.
    public func check(email: String, code: String, tenantID: String, users: UserRepository) async throws -> Check {
        let now = clock.now
        let addressKey = addressKey(email, tenantID: tenantID)
        let forUpdate = database.forUpdate
        let maximumGuesses = maximumGuesses
        let outcome = try await database.transaction { db -> (Check, String?) in
            guard
                let row = try await db.raw(
                    """
                    SELECT id, user_id, code_hash, expires_at, failures, used_at FROM email_codes
                    WHERE tenant_id = \(bind: tenantID) AND address_key = \(bind: addressKey) ORDER BY created_at DESC, id DESC LIMIT 1\(unsafeRaw: forUpdate)
                    """
                ).first()
            else { return (.dead, nil) }
            let id = try row.string("id")
            let failures = try row.int("failures")
            guard try row.optionalInt("used_at") == nil, try row.date("expires_at") > now, failures < maximumGuesses else { return (.dead, nil) }
            let expected = try row.optionalString("code_hash")
            if let expected, let userID = try row.optionalString("user_id"), ConstantTime.equals(expected, codeHash(code, id: id)) {
                try await db.raw("UPDATE email_codes SET used_at = \(bind: now.ms) WHERE id = \(bind: id)").run()
                return (.dead, userID)
            }
            try await db.raw("UPDATE email_codes SET failures = failures + 1 WHERE id = \(bind: id)").run()
            return (.wrong(guessesLeft: maximumGuesses - failures - 1), nil)
        }
        if let userID = outcome.1 {
            guard let user = try await users.user(id: userID, tenantID: tenantID) else { return .dead }
            return .signedIn(user)
        }
        return outcome.0
    }

    func addressKey(_ email: String, tenantID: String) -> String {
        keyring.mac("\(tenantID)\n\(email.lowercased())", purpose: "email-code-address")
    }

    func codeHash(_ code: String, id: String) -> String {
        keyring.mac("\(id)\n\(code)", purpose: "email-code")
    }

    /// Six random digits, evenly spread.
    static func newCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = Int.random(in: 0..<1_000_000, using: &generator)
        let text = String(value)
        return String(repeating: "0", count: 6 - text.count) + text
    }
}
