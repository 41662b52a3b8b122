import Foundation
import LatchkeyCore
import Testing

@Suite("Circuit policy")
struct CircuitPolicyTests {
    let policy = CircuitPolicy(threshold: 5, openInterval: 30, trialLength: 15)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func fiveFailuresInARowPauseCallsForThirtySeconds() {
        var state = CircuitState.closed
        for _ in 0..<4 { state = policy.failing(state, now: t0) }
        #expect(policy.decide(state, owner: "a", now: t0) == .closed)
        state = policy.failing(state, now: t0)
        #expect(state.isOpen(now: t0))
        #expect(policy.decide(state, owner: "a", now: t0.addingTimeInterval(10)) == .open(retryAfter: 20))
        #expect(policy.decide(state, owner: "b", now: t0.addingTimeInterval(29.5)) == .open(retryAfter: 1))
        #expect(policy.decide(state, owner: "a", now: t0.addingTimeInterval(30)) == .trialAvailable)
    }

    @Test func oneTrialAtATimeAndAClaimThatIsNeverEndedExpires() {
        var state = CircuitState.closed
        for _ in 0..<5 { state = policy.failing(state, now: t0) }
        let after = t0.addingTimeInterval(31)
        state = policy.claimingTrial(state, owner: "a", now: after)
        #expect(policy.decide(state, owner: "b", now: after) == .open(retryAfter: 15))
        // Whoever holds it may go on.
        #expect(policy.decide(state, owner: "a", now: after) == .trialAvailable)
        // An instance that died mid-trial does not pause the provider for good.
        #expect(policy.decide(state, owner: "b", now: after.addingTimeInterval(16)) == .trialAvailable)
    }

    @Test func anAnswerClosesTheCircuitAndAFailedTrialPausesAgain() {
        var state = CircuitState.closed
        for _ in 0..<5 { state = policy.failing(state, now: t0) }
        let after = t0.addingTimeInterval(31)
        let trial = policy.claimingTrial(state, owner: "a", now: after)
        #expect(policy.succeeding(trial).isClean)
        #expect(policy.decide(policy.succeeding(trial), owner: "b", now: after) == .closed)
        let failed = policy.failing(trial, now: after)
        #expect(failed.trialOwner == nil)
        #expect(policy.decide(failed, owner: "b", now: after) == .open(retryAfter: 30))
    }

    @Test func givingBackATrialOnlyReleasesOnesOwnClaim() {
        var state = CircuitState.closed
        for _ in 0..<5 { state = policy.failing(state, now: t0) }
        let trial = policy.claimingTrial(state, owner: "a", now: t0.addingTimeInterval(31))
        #expect(policy.releasingTrial(trial, owner: "b") == trial)
        let released = policy.releasingTrial(trial, owner: "a")
        #expect(released.trialOwner == nil && released.trialUntil == nil)
        #expect(released.failures == 5)
        #expect(policy.decide(released, owner: "b", now: t0.addingTimeInterval(31)) == .trialAvailable)
    }
}
