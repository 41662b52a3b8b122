public import Foundation
public import LatchkeyCore

/// Connect sessions in memory, with the same fences as the SQL store (the contract tests run both), for testing the
/// connect flow's logic without a database.
public actor InMemoryConnectSessionStore: ConnectSessionStore {
    private struct Row {
        var session: ConnectSession
        var stateHash: String
        var sealedVerifier: Data?
    }

    private var rows: [String: Row] = [:]

    public init() {}

    public func insert(_ session: ConnectSession, stateHash: String, sealedVerifier: Data?) throws {
        guard rows[session.id] == nil, !rows.values.contains(where: { $0.stateHash == stateHash }) else {
            throw LatchkeyError.conflict("A connect session with this id or state already exists.")
        }
        rows[session.id] = Row(session: session, stateHash: stateHash, sealedVerifier: sealedVerifier)
    }

    public func find(stateHash: String) -> (session: ConnectSession, sealedVerifier: Data?)? {
        rows.values.first { $0.stateHash == stateHash }.map { ($0.session, $0.sealedVerifier) }
    }

    public func apply(_ transition: ExchangeTransition, id: String, credentialID: String?) -> Bool {
        guard var row = rows[id], row.session.status == transition.from else { return false }
        if transition.isClaim, row.session.stateExpiresAt <= transition.at { return false }
        row.session.status = transition.to
        if transition.to.isFinal {
            row.session.error = transition.reason
            row.session.credentialID = credentialID
            row.sealedVerifier = nil
        } else if transition.to == .pending {
            row.session.stateExpiresAt = transition.attemptDeadline ?? transition.at
        }
        rows[id] = row
        return true
    }

    @discardableResult
    public func purgeExpired(now: Date) -> Int {
        let expired = rows.values.filter { $0.session.expiresAt < now }.map(\.session.id)
        for id in expired { rows[id] = nil }
        return expired.count
    }
}
