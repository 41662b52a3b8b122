import Crypto
public import Foundation
public import LatchkeyCore
import SQLKit

/// What a WebAuthn challenge was issued for.
public enum WebAuthnCeremony: String, Sendable {
    /// Adding a passkey in Settings: bound to the signed-in person.
    case registration
    /// Signing in with a passkey: bound to the tenant of the sign-in page only.
    case authentication
}

/// The `webauthn_challenges` table: the challenges the server issued, by hash, so that any instance can finish a
/// ceremony another one started. Each is good for one answer within its lifetime (five minutes).
public struct WebAuthnChallengeRepository: Sendable {
    /// A challenge issued to a browser.
    public struct Issued: Sendable, Equatable {
        public var tenantID: String
        public var userID: String?
        /// The user handle a registration's options gave the authenticator.
        public var userHandle: String?
    }

    let database: Database
    let clock: any LatchkeyClock
    public static let lifetime: TimeInterval = 300

    public init(database: Database, clock: any LatchkeyClock) {
        self.database = database
        self.clock = clock
    }

    /// A new random challenge (32 bytes) for `ceremony`, stored; expired challenges are swept on the way.
    public func issue(_ ceremony: WebAuthnCeremony, tenantID: String, userID: String?, userHandle: String? = nil) async throws -> Data {
        let challenge = Data(SecureRandom.bytes(32))
        let now = clock.now
        try await database.write { db in
            try await db.raw("DELETE FROM webauthn_challenges WHERE expires_at < \(bind: now.ms)").run()
            try await db.raw(
                """
                INSERT INTO webauthn_challenges (challenge_hash, tenant_id, user_id, user_handle, ceremony, created_at, expires_at)
                VALUES (\(bind: Self.hash(challenge)), \(bind: tenantID), \(bind: userID), \(bind: userHandle), \(bind: ceremony.rawValue),
                  \(bind: now.ms),
                  \(bind: now.addingTimeInterval(Self.lifetime).ms))
                """
            ).run()
        }
        return challenge
    }

    /// Uses up `challenge`: what it was issued for when it was issued for `ceremony` and has not expired, nil
    /// otherwise. A second answer with the same challenge gets nil.
    public func consume(_ challenge: Data, ceremony: WebAuthnCeremony) async throws -> Issued? {
        let now = clock.now
        return try await database.write { db in
            let row = try await db.raw(
                """
                DELETE FROM webauthn_challenges WHERE challenge_hash = \(bind: Self.hash(challenge))
                  AND ceremony = \(bind: ceremony.rawValue) RETURNING tenant_id, user_id, user_handle, expires_at
                """
            ).first()
            guard let row, try row.int("expires_at") >= now.ms else { return nil }
            return Issued(
                tenantID: try row.string("tenant_id"),
                userID: try row.optionalString("user_id"),
                userHandle: try row.optionalString("user_handle")
            )
        }
    }

    static func hash(_ challenge: Data) -> String { Hex.lowercase(SHA256.hash(data: challenge)) }
}
