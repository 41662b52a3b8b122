import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// The connect session store contract, run on SQLite, PostgreSQL (when configured) and the in-memory store: every
/// status change is a transition of ``ExchangeStateMachine`` applied atomically, fenced on the state it leaves.
@Suite("Connect session store contract")
struct ConnectSessionStoreContractTests {
    enum Kind: String, Sendable, CustomTestStringConvertible {
        case sqlite, postgres, memory
        var testDescription: String { rawValue }
    }

    static var kinds: [Kind] { TestDatabases.kinds.map { $0 == .sqlite ? Kind.sqlite : .postgres } + [.memory] }

    /// The rows a session hangs under.
    struct Owner: Sendable {
        var tenantID = "t"
        var appID = "a"
        var integrationID = "i"
        var endUserID = "u"
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ seconds: TimeInterval) -> Date { Self.t0.addingTimeInterval(seconds) }

    func withStore(_ kind: Kind, _ body: (any ConnectSessionStore, Owner) async throws -> Void) async throws {
        switch kind {
        case .memory:
            try await body(InMemoryConnectSessionStore(), Owner())
        case .sqlite, .postgres:
            try await TestDatabases.withRuntime(kind == .sqlite ? .sqlite : .postgres) { runtime async throws in
                let directory = runtime.tenants.directory
                let tenantID = runtime.defaultTenant.id
                let app = try #require(try await directory.consoleApp(tenantID: tenantID))
                let integration = try await runtime.database.write { db in
                    try await directory.findOrCreateIntegration(tenantID: tenantID, key: "github", now: Self.t0, on: db).integration
                }
                let endUser = try await directory.findOrCreateEndUser(tenantID: tenantID, appID: app.id, externalID: "alice", now: Self.t0)
                let owner = Owner(tenantID: tenantID, appID: app.id, integrationID: integration.id, endUserID: endUser.id)
                try await body(ConnectSessionRepository(database: runtime.database), owner)
            }
        }
    }

    func session(_ owner: Owner, id: String = NewID.make()) -> ConnectSession {
        ConnectSession(
            id: id,
            tenantID: owner.tenantID,
            appID: owner.appID,
            integrationID: owner.integrationID,
            endUserID: owner.endUserID,
            browserHash: "browser",
            nonce: "n",
            redirectURI: "https://latchkey.example/connect/callback",
            scopes: ["repo"],
            templateValues: ["shop": "acme"],
            reconnectCredentialID: nil,
            status: .pending,
            error: nil,
            credentialID: nil,
            createdAt: Self.t0,
            stateExpiresAt: at(600),
            expiresAt: at(1800)
        )
    }

    /// The claim the machine of the stored session decides at `now`.
    func claim(_ session: ConnectSession, now: Date) throws -> (ExchangeStateMachine, ExchangeTransition) {
        var machine = session.exchange
        guard case .record(let transition) = machine.claim(now: now) else { throw ExchangeStateMachine.Refusal.notClaimed }
        return (machine, transition)
    }

    @Test(arguments: kinds)
    func storesAndFindsASessionByItsStateHash(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let new = session(owner)
            try await store.insert(new, stateHash: "h1", sealedVerifier: Data([1, 2, 3]))
            let found = try #require(try await store.find(stateHash: "h1"))
            #expect(found.session == new)
            #expect(found.sealedVerifier == Data([1, 2, 3]))
            #expect(try await store.find(stateHash: "h2") == nil)
        }
    }

    @Test(arguments: kinds)
    func twoInstancesClaimingTheSameSessionOneWins(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let new = session(owner)
            try await store.insert(new, stateHash: "h", sealedVerifier: nil)
            // Both read the session as pending, so both machines allow the claim; the store lets one through.
            let (_, first) = try claim(new, now: at(10))
            let (_, second) = try claim(new, now: at(10))
            async let a = store.apply(first, id: new.id, credentialID: nil)
            async let b = store.apply(second, id: new.id, credentialID: nil)
            let results = try await [a, b]
            #expect(results.filter { $0 }.count == 1)
            #expect(try await store.find(stateHash: "h")?.session.status == .exchanging)
        }
    }

    @Test(arguments: kinds)
    func finishingWithoutAClaimOrTwiceChangesNothing(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let new = session(owner)
            try await store.insert(new, stateHash: "h", sealedVerifier: Data([9]))
            let premature = ExchangeTransition(from: .exchanging, to: .completed, at: at(5))
            #expect(try await store.apply(premature, id: new.id, credentialID: "c1") == false)
            #expect(try await store.find(stateHash: "h")?.session.status == .pending)
            #expect(try await store.find(stateHash: "h")?.sealedVerifier == Data([9]))

            var (machine, claimed) = try claim(new, now: at(10))
            #expect(try await store.apply(claimed, id: new.id, credentialID: nil))
            guard case .record(let completed) = machine.complete(now: at(20)) else {
                Issue.record("the machine refused to complete a claimed session")
                return
            }
            #expect(try await store.apply(completed, id: new.id, credentialID: "c1"))
            // The same end written again, or a late failure from a stale machine, finds the row moved on.
            #expect(try await store.apply(completed, id: new.id, credentialID: "c2") == false)
            let lateFailure = ExchangeTransition(from: .exchanging, to: .failed, at: at(30), reason: "internal")
            #expect(try await store.apply(lateFailure, id: new.id, credentialID: nil) == false)
            #expect(try await store.apply(claimed, id: new.id, credentialID: nil) == false)

            let found = try #require(try await store.find(stateHash: "h"))
            #expect(found.session.status == .completed)
            #expect(found.session.credentialID == "c1")
            #expect(found.session.error == nil)
            #expect(found.sealedVerifier == nil)
        }
    }

    @Test(arguments: kinds)
    func aFailureIsRecordedWithItsReasonAndErasesTheVerifier(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let new = session(owner)
            try await store.insert(new, stateHash: "h", sealedVerifier: Data([9]))
            var (machine, claimed) = try claim(new, now: at(10))
            #expect(try await store.apply(claimed, id: new.id, credentialID: nil))
            guard case .record(let failed) = machine.fail(reason: "GitHub was not connected", now: at(20)) else {
                Issue.record("the machine refused to fail a claimed session")
                return
            }
            #expect(try await store.apply(failed, id: new.id, credentialID: nil))
            let found = try #require(try await store.find(stateHash: "h"))
            #expect(found.session.status == .failed && found.session.error == "GitHub was not connected")
            #expect(found.sealedVerifier == nil)
        }
    }

    @Test(arguments: kinds)
    func aClaimAfterTheStateRanOutIsRefusedByTheStoreToo(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let new = session(owner)
            try await store.insert(new, stateHash: "h", sealedVerifier: nil)
            // A claim decided in time but written once the deadline had passed (a slow instance) does not land.
            let late = ExchangeTransition(from: .pending, to: .exchanging, at: at(600), attemptDeadline: at(600))
            #expect(try await store.apply(late, id: new.id, credentialID: nil) == false)

            var machine = new.exchange
            guard case .expire(let expiry) = machine.claim(now: at(600)) else {
                Issue.record("the machine did not expire a claim past the deadline")
                return
            }
            #expect(try await store.apply(expiry, id: new.id, credentialID: nil))
            let found = try #require(try await store.find(stateHash: "h"))
            #expect(found.session.status == .expired && found.session.error == "expired")
            // Expired is final: a replay cannot claim it, whatever time it claims to be.
            let replay = ExchangeTransition(from: .pending, to: .exchanging, at: at(1), attemptDeadline: at(600))
            #expect(try await store.apply(replay, id: new.id, credentialID: nil) == false)
        }
    }

    @Test(arguments: kinds)
    func aReopenedSessionIsClaimableOnlyThroughANewAttempt(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let new = session(owner)
            try await store.insert(new, stateHash: "h", sealedVerifier: nil)
            var machine = ExchangeStateMachine(status: .pending, attemptDeadline: at(600), expiresAt: at(1800), retry: .retryWhilePending)
            guard case .record(let claimed) = machine.claim(now: at(10)),
                case .record(let reopened) = machine.fail(reason: "access_denied", retryable: true, now: at(20))
            else {
                Issue.record("the machine did not claim and reopen")
                return
            }
            #expect(try await store.apply(claimed, id: new.id, credentialID: nil))
            #expect(try await store.apply(reopened, id: new.id, credentialID: nil))
            #expect(try await store.find(stateHash: "h")?.session.status == .pending)
            // The spent attempt cannot be claimed again, though its deadline has not passed…
            let replay = ExchangeTransition(from: .pending, to: .exchanging, at: at(25), attemptDeadline: at(600))
            #expect(try await store.apply(replay, id: new.id, credentialID: nil) == false)
            // …a new one can.
            guard case .record(let attempt) = machine.beginAttempt(now: at(30), deadline: at(630)),
                case .record(let again) = machine.claim(now: at(40))
            else {
                Issue.record("the machine did not start a new attempt")
                return
            }
            #expect(try await store.apply(attempt, id: new.id, credentialID: nil))
            #expect(try await store.apply(again, id: new.id, credentialID: nil))
            #expect(try await store.find(stateHash: "h")?.session.status == .exchanging)
        }
    }

    @Test(arguments: kinds)
    func purgeDeletesOnlySessionsPastTheirExpiry(kind: Kind) async throws {
        try await withStore(kind) { store, owner in
            let old = session(owner)
            var fresh = session(owner)
            fresh.expiresAt = at(3600)
            try await store.insert(old, stateHash: "old", sealedVerifier: nil)
            try await store.insert(fresh, stateHash: "fresh", sealedVerifier: nil)
            #expect(try await store.purgeExpired(now: at(1801)) == 1)
            #expect(try await store.find(stateHash: "old") == nil)
            #expect(try await store.find(stateHash: "fresh") != nil)
        }
    }
}
