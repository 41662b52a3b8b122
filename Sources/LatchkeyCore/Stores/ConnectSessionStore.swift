public import Foundation

/// Where connect sessions are kept. The connect flow decides each move with ``ExchangeStateMachine``; a store
/// applies it atomically, fenced on the state the machine moved from, so of two instances racing for one session
/// exactly one wins. Implemented over SQL in LatchkeyStorage and in memory in LatchkeyTesting; both pass the same
/// contract tests.
public protocol ConnectSessionStore: Sendable {
    /// Stores a new session under the HMAC of its OAuth `state`, with its PKCE verifier sealed (or none).
    func insert(_ session: ConnectSession, stateHash: String, sealedVerifier: Data?) async throws

    /// The session whose state has this HMAC, with its sealed verifier (erased once the session ended).
    func find(stateHash: String) async throws -> (session: ConnectSession, sealedVerifier: Data?)?

    /// Applies `transition` to session `id` if it is still in `transition.from` (and, for a claim, its attempt's
    /// deadline is still after `transition.at`). A final state erases the verifier and records `transition.reason`
    /// as the error, `credentialID` as the result and `transition.at` as the completion time. True when this call
    /// moved the session; false when it had already moved on (a replayed callback, a lost race) or is gone.
    func apply(_ transition: ExchangeTransition, id: String, credentialID: String?) async throws -> Bool

    /// Deletes sessions whose own expiry is before `now`; returns how many.
    @discardableResult
    func purgeExpired(now: Date) async throws -> Int
}
