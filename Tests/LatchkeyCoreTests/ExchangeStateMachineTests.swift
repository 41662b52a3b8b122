import Foundation
import LatchkeyCore
import Testing

/// Every move of a one-time exchange (a connect session's OAuth state, later an authorization code), legal and
/// illegal, without a database: each test feeds events with a hand-moved `now` and checks the decision.
@Suite("Exchange state machine")
struct ExchangeStateMachineTests {
    typealias Machine = ExchangeStateMachine
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func at(_ seconds: TimeInterval) -> Date { Self.t0.addingTimeInterval(seconds) }

    /// A console connect session: its one attempt (the OAuth state) claimable for 10 minutes, the session 30.
    func console(_ status: ExchangeStatus = .pending) -> Machine {
        Machine(status: status, attemptDeadline: at(600), expiresAt: at(1800), retry: .singleAttempt)
    }

    /// An app's connect session, whose token stays usable while it is pending.
    func app() -> Machine {
        Machine(status: .pending, attemptDeadline: at(600), expiresAt: at(1800), retry: .retryWhilePending)
    }

    // MARK: - Claim

    @Test func aPendingSessionIsClaimedOnceAndThenCompletes() {
        var m = console()
        #expect(m.claim(now: at(30)) == .record(ExchangeTransition(from: .pending, to: .exchanging, at: at(30), attemptDeadline: at(600))))
        #expect(m.status == .exchanging)
        #expect(m.complete(now: at(31)) == .record(ExchangeTransition(from: .exchanging, to: .completed, at: at(31))))
        #expect(m.status == .completed)
    }

    @Test func aSecondClaimIsRefusedWhileTheFirstExchangesAndAfterItEnded() {
        var m = console()
        guard case .record(let claim) = m.claim(now: at(30)) else {
            Issue.record("the first claim was refused")
            return
        }
        #expect(claim.isClaim)
        #expect(m.claim(now: at(31)) == .refuse(.inUse))
        _ = m.complete(now: at(32))
        #expect(m.claim(now: at(33)) == .refuse(.finished(.completed)))
        #expect(m.status == .completed)
    }

    @Test func aFailedExchangeEndsASingleAttemptSession() {
        var m = console()
        _ = m.claim(now: at(30))
        #expect(
            m.fail(reason: "denied", retryable: true, now: at(40))
                == .record(ExchangeTransition(from: .exchanging, to: .failed, at: at(40), reason: "denied"))
        )
        #expect(m.claim(now: at(41)) == .refuse(.finished(.failed)))
    }

    // MARK: - Expiry (by the injected clock)

    @Test func aClaimAfterTheAttemptDeadlineExpiresASingleAttemptSession() {
        var m = console()
        #expect(m.claim(now: at(600)) == .expire(ExchangeTransition(from: .pending, to: .expired, at: at(600), reason: "expired")))
        #expect(m.status == .expired)
        #expect(m.claim(now: at(601)) == .refuse(.finished(.expired)))
        #expect(m.complete(now: at(602)) == .refuse(.finished(.expired)))
    }

    @Test func aClaimJustBeforeTheDeadlineIsAccepted() {
        var m = console()
        guard case .record = m.claim(now: at(599.999)) else {
            Issue.record("a claim inside the deadline was refused")
            return
        }
        #expect(m.status == .exchanging)
    }

    @Test func aClaimAfterTheSessionExpiryExpiresEvenWithRetries() {
        var m = Machine(status: .pending, attemptDeadline: at(3600), expiresAt: at(1800), retry: .retryWhilePending)
        #expect(m.claim(now: at(1800)) == .expire(ExchangeTransition(from: .pending, to: .expired, at: at(1800), reason: "expired")))
    }

    @Test func aClaimedExchangeIsNotExpiredByTheClock() {
        var m = console()
        _ = m.claim(now: at(599))
        #expect(m.complete(now: at(5000)) == .record(ExchangeTransition(from: .exchanging, to: .completed, at: at(5000))))
    }

    // MARK: - Finishing without a claim, finishing twice

    @Test func finishingWithoutAClaimIsRefused() {
        var m = console()
        #expect(m.complete(now: at(1)) == .refuse(.notClaimed))
        #expect(m.fail(reason: "x", now: at(1)) == .refuse(.notClaimed))
        #expect(m.status == .pending)
    }

    @Test func finishingTwiceIsRefused() {
        var m = console()
        _ = m.claim(now: at(1))
        _ = m.complete(now: at(2))
        #expect(m.complete(now: at(3)) == .refuse(.finished(.completed)))
        #expect(m.fail(reason: "late", now: at(3)) == .refuse(.finished(.completed)))

        var failed = console()
        _ = failed.claim(now: at(1))
        _ = failed.fail(reason: "denied", now: at(2))
        #expect(failed.complete(now: at(3)) == .refuse(.finished(.failed)))
        #expect(failed.status == .failed)
    }

    @Test func aStoredStatusIsTakenAsIs() {
        for status in [ExchangeStatus.completed, .failed, .expired] {
            var m = console(status)
            #expect(m.claim(now: at(1)) == .refuse(.finished(status)))
            #expect(m.complete(now: at(1)) == .refuse(.finished(status)))
        }
        var exchanging = console(.exchanging)
        #expect(exchanging.claim(now: at(1)) == .refuse(.inUse))
        #expect(exchanging.complete(now: at(1)) == .record(ExchangeTransition(from: .exchanging, to: .completed, at: at(1))))
    }

    // MARK: - Retry after a denial at the provider (DESIGN §4)

    @Test func aDenialReopensAnAppSessionForANewAttemptWhileItIsPending() {
        var m = app()
        _ = m.claim(now: at(60))
        #expect(
            m.fail(reason: "access_denied", retryable: true, now: at(70))
                == .record(ExchangeTransition(from: .exchanging, to: .pending, at: at(70), reason: "access_denied"))
        )
        #expect(m.status == .pending)
        // The spent state cannot be replayed…
        #expect(m.claim(now: at(71)) == .refuse(.noLiveAttempt))
        // …a new attempt can, with its own deadline (never past the session's).
        #expect(
            m.beginAttempt(now: at(100), deadline: at(700))
                == .record(ExchangeTransition(from: .pending, to: .pending, at: at(100), attemptDeadline: at(700)))
        )
        guard case .record = m.claim(now: at(200)) else {
            Issue.record("the new attempt could not be claimed")
            return
        }
        #expect(m.complete(now: at(210)) == .record(ExchangeTransition(from: .exchanging, to: .completed, at: at(210))))
    }

    @Test func aNewAttemptNeverOutlivesTheSession() {
        var m = app()
        _ = m.claim(now: at(60))
        _ = m.fail(reason: "access_denied", retryable: true, now: at(70))
        #expect(
            m.beginAttempt(now: at(1700), deadline: at(2300))
                == .record(ExchangeTransition(from: .pending, to: .pending, at: at(1700), attemptDeadline: at(1800)))
        )
        #expect(m.claim(now: at(1800)) == .expire(ExchangeTransition(from: .pending, to: .expired, at: at(1800), reason: "expired")))
    }

    @Test func anAttemptThatRanOutLeavesAnAppSessionPending() {
        var m = app()
        #expect(m.claim(now: at(600)) == .refuse(.noLiveAttempt))
        #expect(m.status == .pending)
        #expect(
            m.beginAttempt(now: at(1800), deadline: at(2400))
                == .expire(ExchangeTransition(from: .pending, to: .expired, at: at(1800), reason: "expired"))
        )
    }

    @Test func aFailureThatIsNotADenialEndsEvenAnAppSession() {
        var m = app()
        _ = m.claim(now: at(60))
        #expect(
            m.fail(reason: "exchange failed", now: at(70))
                == .record(ExchangeTransition(from: .exchanging, to: .failed, at: at(70), reason: "exchange failed"))
        )
        #expect(m.beginAttempt(now: at(80), deadline: at(680)) == .refuse(.finished(.failed)))
    }

    @Test func aDenialAfterTheSessionExpiredEndsIt() {
        var m = app()
        _ = m.claim(now: at(590))
        #expect(
            m.fail(reason: "access_denied", retryable: true, now: at(1800))
                == .record(ExchangeTransition(from: .exchanging, to: .failed, at: at(1800), reason: "access_denied"))
        )
    }

    @Test func aSingleAttemptSessionGetsNoSecondAttempt() {
        var m = console()
        #expect(m.beginAttempt(now: at(1), deadline: at(601)) == .refuse(.singleAttempt))
        var inUse = console()
        _ = inUse.claim(now: at(1))
        #expect(inUse.beginAttempt(now: at(2), deadline: at(602)) == .refuse(.inUse))
        #expect(
            inUse.fail(reason: "access_denied", retryable: true, now: at(3))
                == .record(ExchangeTransition(from: .exchanging, to: .failed, at: at(3), reason: "access_denied"))
        )
    }
}
