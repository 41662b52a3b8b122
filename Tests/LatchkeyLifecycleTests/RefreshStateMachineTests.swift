import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import Testing

/// Every decision of a refresh, without a database or a network: each test feeds events and checks the actions.
@Suite("Refresh state machine")
struct RefreshStateMachineTests {
    typealias Machine = RefreshStateMachine
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let configuration = Machine.Configuration()

    func machine(_ trigger: Machine.Trigger = .onDemand, leased: Bool = false) -> Machine {
        Machine(configuration: Self.configuration, trigger: trigger, owner: "me", leased: leased, started: Self.t0)
    }

    func at(_ seconds: TimeInterval) -> Date { Self.t0.addingTimeInterval(seconds) }

    /// A row whose access token expired 10 s before the start.
    var expired: Machine.Row { Machine.Row(expiresAt: at(-10)) }
    /// The expired row once this instance holds its lease (won, or handed in by a bulk claim).
    var claimed: Machine.Row { expired.leased(by: "me", until: at(15)) }

    /// Runs a machine from the start to the provider call: lease won, circuit closed.
    func calling(_ m: inout Machine, row: Machine.Row? = nil, circuit: CircuitState = .closed) {
        let row = row ?? expired
        #expect(m.start() == .load)
        #expect(m.loaded(row, now: at(0)) == .acquireLease(until: at(15)))
        #expect(m.leaseAcquired(true, now: at(0)) == .load)
        #expect(m.loaded(row.leased(by: "me", until: at(15)), now: at(0)) == .resolveContext)
        #expect(m.contextResolved(circuit: circuit, now: at(0)) == .callProvider(attempt: 0))
        #expect(m.holdsLease)
    }

    func isRecordFailure(_ action: Machine.Action, status: CredentialStatus?, reason: String) -> Machine.Failure? {
        guard case .recordFailure(let failure) = action, failure.status == status, failure.reason == reason else { return nil }
        return failure
    }

    // MARK: - Who refreshes

    @Test func aGoneCredentialIsNotFound() {
        var m = machine()
        _ = m.start()
        #expect(m.loaded(nil, now: at(0)) == .finish(.refused(.notFound), releaseLease: false, releaseTrial: false))
    }

    @Test func aCredentialThatNeedsReauthIsRefusedWithoutCallingAnyone() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        let row = Machine.Row(status: .needsReauth, statusReason: "invalid_grant", expiresAt: at(-10))
        #expect(m.loaded(row, now: at(0)) == .finish(.refused(.reauth(reason: "invalid_grant")), releaseLease: true, releaseTrial: false))
    }

    @Test func aTokenRefreshedByAnotherCallerMeanwhileIsHandedOut() {
        var m = machine()
        _ = m.start()
        let refreshed = Machine.Row(expiresAt: at(3600), lastRefreshedAt: at(0.5))
        #expect(m.loaded(refreshed, now: at(1)) == .finish(.stored, releaseLease: false, releaseTrial: false))
    }

    @Test func theRowIsReadAgainOnceTheLeaseIsWon() {
        var m = machine()
        _ = m.start()
        #expect(m.loaded(expired, now: at(0)) == .acquireLease(until: at(15)))
        #expect(m.leaseAcquired(true, now: at(0)) == .load)
        // Someone finished a refresh between our read and our claim: no second refresh, the lease is given back.
        let refreshed = Machine.Row(expiresAt: at(3600), lastRefreshedAt: at(0)).leased(by: "me", until: at(15))
        #expect(m.loaded(refreshed, now: at(0)) == .finish(.stored, releaseLease: true, releaseTrial: false))
    }

    @Test func aLoserWaitsAndReadsTheWinnersResult() {
        var m = machine()
        _ = m.start()
        _ = m.loaded(expired, now: at(0))
        #expect(m.leaseAcquired(false, now: at(0)) == .sleep(seconds: 0.1))
        #expect(m.slept(now: at(0.1)) == .load)
        #expect(
            m.loaded(Machine.Row(expiresAt: at(3600), lastRefreshedAt: at(0.05)), now: at(0.1))
                == .finish(.stored, releaseLease: false, releaseTrial: false)
        )
    }

    @Test func aLoserGivesUpAfterTheWaitLimit() {
        var m = machine()
        _ = m.start()
        _ = m.loaded(expired, now: at(0))
        #expect(
            m.leaseAcquired(false, now: at(Self.configuration.waitLimit + 1))
                == .finish(.refused(.waitedTooLong), releaseLease: false, releaseTrial: false)
        )
    }

    @Test func theBackgroundRefresherTrustsItsClaimAndGoesStraightToTheProvider() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        // Even a token refreshed recently is refreshed again: the claim said it is due.
        #expect(m.loaded(Machine.Row(expiresAt: at(200), lastRefreshedAt: at(0)).leased(by: "me", until: at(15)), now: at(0)) == .resolveContext)
    }

    @Test func withoutARefreshTokenAnExpiredCredentialExpiresAndAValidOneIsHandedOut() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        let action = m.loaded(Machine.Row(expiresAt: at(-1), hasRefreshToken: false).leased(by: "me", until: at(15)), now: at(0))
        #expect(isRecordFailure(action, status: .expired, reason: "no_refresh_token")?.retryAt == nil)
        #expect(m.failureRecorded() == .finish(.refused(.reauth(reason: "no_refresh_token")), releaseLease: false, releaseTrial: false))

        var n = machine(.proactive, leased: true)
        _ = n.start()
        #expect(
            isRecordFailure(
                n.loaded(Machine.Row(expiresAt: at(100), hasRefreshToken: false).leased(by: "me", until: at(15)), now: at(0)),
                status: nil,
                reason: "no_refresh_token"
            )
                != nil
        )
        #expect(n.failureRecorded() == .finish(.stored, releaseLease: false, releaseTrial: false))
    }

    @Test func aBulkClaimThatRanOutInTheQueueIsNeverUsedToCallTheProvider() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        // The claim expired while the credential waited for a free worker, and another instance took the lease.
        #expect(m.loaded(expired.leased(by: "other", until: at(20)), now: at(16)) == .acquireLease(until: at(31)))
        #expect(!m.holdsLease)
        #expect(m.leaseAcquired(false, now: at(16)) == .sleep(seconds: 0.1))
        _ = m.slept(now: at(16.1))
        // The other instance refreshed it: nothing more to do.
        let done = Machine.Row(expiresAt: at(3600), lastRefreshedAt: at(16.05))
        #expect(m.loaded(done, now: at(16.1)) == .finish(.stored, releaseLease: false, releaseTrial: false))
    }

    @Test func aClaimAboutToRunOutIsRenewedBeforeTheProviderIsCalled() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        #expect(m.loaded(expired.leased(by: "me", until: at(15)), now: at(8)) == .renewLease(until: at(23)))
        #expect(m.leaseRenewed(true, now: at(8)) == .resolveContext)
        // Renewal lost: it was taken meanwhile; wait like everyone else.
        var n = machine(.proactive, leased: true)
        _ = n.start()
        _ = n.loaded(expired.leased(by: "me", until: at(15)), now: at(8))
        #expect(n.leaseRenewed(false, now: at(8)) == .load)
        #expect(!n.holdsLease)
    }

    @Test func anUnresolvableProviderEndsTheRunAndReleasesTheLease() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        #expect(m.contextFailed() == .finish(.refused(.noContext), releaseLease: true, releaseTrial: false))
    }

    // MARK: - Success

    @Test func aSuccessWithACleanCircuitSavesWithoutWritingTheCircuit() {
        var m = machine()
        calling(&m)
        #expect(m.providerAnswered(now: at(0.2)) == .saveTokens)
        #expect(m.tokensSaved(true) == .finish(.refreshed, releaseLease: false, releaseTrial: false))
    }

    @Test func aSuccessAfterEarlierFailuresResetsTheCircuit() {
        var m = machine()
        calling(&m, circuit: CircuitState(failures: 2, version: 3))
        #expect(m.providerAnswered(now: at(0.2)) == .recordCircuit(.answered))
        #expect(m.circuitRecorded(.closed, now: at(0.2)) == .saveTokens)
    }

    @Test func tokensThatCouldNotBeSavedBecauseTheLeaseWasLostAreNotHandedOutAsOurs() {
        var m = machine()
        calling(&m)
        _ = m.providerAnswered(now: at(0.2))
        #expect(m.tokensSaved(false) == .finish(.reloadStored, releaseLease: false, releaseTrial: false))
    }

    // MARK: - Retries and the lease

    @Test func aTransientFailureIsRetriedUnderARenewedLease() {
        var m = machine()
        calling(&m)
        #expect(m.providerFailed(.transient(retryAfter: nil), now: at(1), jitter: 0.5) == .recordCircuit(.failed))
        // backoff 0.5 s × 2⁰ × (0.5 + 0.5)
        #expect(m.circuitRecorded(CircuitState(failures: 1, version: 1), now: at(1)) == .renewLease(until: at(1 + 15 + 0.5)))
        #expect(m.leaseRenewed(true, now: at(1)) == .sleep(seconds: 0.5))
        #expect(m.slept(now: at(1.5)) == .callProvider(attempt: 1))
    }

    @Test func afterALostLeaseTheProviderIsNeverCalledAgainAndTheWinnersResultIsRead() {
        var m = machine()
        calling(&m)
        _ = m.providerFailed(.transient(retryAfter: nil), now: at(10), jitter: 0.5)
        #expect(m.circuitRecorded(CircuitState(failures: 1, version: 1), now: at(10)) == .renewLease(until: at(25.5)))
        // Another instance took the lease while the call was out (a slow provider, a paused process).
        #expect(m.leaseRenewed(false, now: at(10)) == .load)
        #expect(!m.holdsLease)
        // It is still refreshing: wait, never call.
        #expect(m.loaded(expired, now: at(10)) == .acquireLease(until: at(25)))
        #expect(m.leaseAcquired(false, now: at(10)) == .sleep(seconds: 0.1))
        #expect(m.slept(now: at(10.1)) == .load)
        // It finished: its result is handed out.
        let winner = Machine.Row(expiresAt: at(3610), lastRefreshedAt: at(10.05))
        #expect(m.loaded(winner, now: at(10.1)) == .finish(.stored, releaseLease: false, releaseTrial: false))
        #expect(m.attemptsMade == 1)
    }

    @Test func retriesStopAfterTheConfiguredNumberAndTheFailureIsRecordedWithBackoff() {
        var m = machine()
        calling(&m)
        for attempt in 1...3 {
            _ = m.providerFailed(.transient(retryAfter: nil), now: at(Double(attempt)), jitter: 0)
            _ = m.circuitRecorded(CircuitState(failures: attempt, version: attempt), now: at(Double(attempt)))
            _ = m.leaseRenewed(true, now: at(Double(attempt)))
            #expect(m.slept(now: at(Double(attempt))) == .callProvider(attempt: attempt))
        }
        _ = m.providerFailed(.transient(retryAfter: 7), now: at(5), jitter: 0)
        let action = m.circuitRecorded(CircuitState(failures: 4, version: 4), now: at(5))
        // First failure of this credential: 30 s × (0.8 + 0.4 × jitter 0).
        #expect(isRecordFailure(action, status: nil, reason: "transient")?.retryAt == at(5 + 24))
        #expect(m.failureRecorded() == .finish(.refused(.providerUnreachable(retryAfter: 7)), releaseLease: false, releaseTrial: false))
    }

    @Test func aCallerWithAStillValidTokenGetsItDespiteTheFailure() {
        let row = Machine.Row(expiresAt: at(30))  // within the 60 s margin, not yet expired
        var configuration = Self.configuration
        configuration.retries = 0
        var n = Machine(configuration: configuration, trigger: .onDemand, owner: "me", leased: false, started: Self.t0)
        calling(&n, row: row)
        _ = n.providerFailed(.transient(retryAfter: nil), now: at(1), jitter: 0)
        _ = n.circuitRecorded(CircuitState(failures: 1, version: 1), now: at(1))
        #expect(n.failureRecorded() == .finish(.stored, releaseLease: false, releaseTrial: false))
    }

    @Test func noRetryIntoAnOpenCircuitNorPastTheBudgetNorInTheBackground() {
        // The failure opened the circuit.
        var m = machine()
        calling(&m)
        _ = m.providerFailed(.transient(retryAfter: nil), now: at(1), jitter: 0)
        #expect(
            isRecordFailure(m.circuitRecorded(CircuitState(failures: 5, openUntil: at(31), version: 5), now: at(1)), status: nil, reason: "transient")
                != nil
        )
        // The provider asked for more time than the caller's budget leaves.
        var n = machine()
        calling(&n)
        _ = n.providerFailed(.transient(retryAfter: nil), now: at(11.9), jitter: 0)
        #expect(isRecordFailure(n.circuitRecorded(CircuitState(failures: 1, version: 1), now: at(11.9)), status: nil, reason: "transient") != nil)
        // The background refresher reschedules instead of retrying.
        var p = machine(.proactive, leased: true)
        _ = p.start()
        _ = p.loaded(claimed, now: at(0))
        _ = p.contextResolved(circuit: .closed, now: at(0))
        _ = p.providerFailed(.transient(retryAfter: nil), now: at(1), jitter: 0)
        #expect(isRecordFailure(p.circuitRecorded(CircuitState(failures: 1, version: 1), now: at(1)), status: nil, reason: "transient") != nil)
    }

    // MARK: - Permanent failures

    @Test func aRevokedGrantNeedsReauthWithoutARetry() {
        var m = machine()
        calling(&m)
        let action = m.providerFailed(.reauthRequired(reason: "invalid_grant"), now: at(1), jitter: 0)
        #expect(isRecordFailure(action, status: .needsReauth, reason: "invalid_grant")?.retryAt == nil)
        #expect(m.failureRecorded() == .finish(.refused(.reauth(reason: "invalid_grant")), releaseLease: false, releaseTrial: false))
    }

    @Test func aRefusedClientMarksTheIntegrationAndLeavesTheCredentialAlone() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        _ = m.contextResolved(circuit: .closed, now: at(0))
        #expect(m.providerFailed(.clientRefused, now: at(1), jitter: 0) == .markIntegrationMisconfigured)
        #expect(isRecordFailure(m.integrationMarked(now: at(1)), status: nil, reason: "invalid_client")?.retryAt == at(3601))
        #expect(m.failureRecorded() == .finish(.refused(.clientRefused), releaseLease: false, releaseTrial: false))
    }

    @Test func anUnusableAnswerCountsAgainstTheCircuitAndIsTriedAgainInFiveMinutes() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        _ = m.contextResolved(circuit: .closed, now: at(0))
        #expect(m.providerFailed(.badResponse, now: at(1), jitter: 0) == .recordCircuit(.failed))
        #expect(
            isRecordFailure(m.circuitRecorded(CircuitState(failures: 1, version: 1), now: at(1)), status: nil, reason: "bad_response")?.retryAt
                == at(301)
        )
    }

    @Test func anAddressRefusedByThePolicyTellsTheCircuitNothing() {
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        _ = m.contextResolved(circuit: .closed, now: at(0))
        #expect(isRecordFailure(m.providerFailed(.policyRefused, now: at(1), jitter: 0), status: nil, reason: "outbound_policy") != nil)
        #expect(m.failureRecorded() == .finish(.refused(.policyRefused), releaseLease: false, releaseTrial: false))
    }

    // MARK: - The circuit

    @Test func anOpenCircuitLeavesTheProviderAloneAndReleasesTheLease() {
        let open = CircuitState(failures: 5, openUntil: at(20), version: 5)
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        #expect(
            m.contextResolved(circuit: open, now: at(0)) == .finish(.refused(.circuitOpen(retryAfter: 20)), releaseLease: true, releaseTrial: false)
        )
        // A caller whose token is still valid keeps using it.
        var n = machine()
        _ = n.start()
        _ = n.loaded(Machine.Row(expiresAt: at(30)), now: at(0))
        _ = n.leaseAcquired(true, now: at(0))
        _ = n.loaded(Machine.Row(expiresAt: at(30)).leased(by: "me", until: at(15)), now: at(0))
        #expect(n.contextResolved(circuit: open, now: at(0)) == .finish(.stored, releaseLease: true, releaseTrial: false))
    }

    @Test func afterThePauseOneTrialCallDecides() {
        let paused = CircuitState(failures: 5, openUntil: at(-1), version: 5)
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        #expect(m.contextResolved(circuit: paused, now: at(0)) == .claimTrial(paused))
        let claimed = CircuitState(failures: 5, openUntil: at(-1), trialOwner: "me", trialUntil: at(15), version: 6)
        #expect(m.trialClaimed(true, current: claimed, now: at(0)) == .callProvider(attempt: 0))
        #expect(m.holdsTrial)
        #expect(m.providerAnswered(now: at(1)) == .recordCircuit(.answered))
        #expect(m.circuitRecorded(.closed, now: at(1)) == .saveTokens)
        #expect(!m.holdsTrial)
    }

    @Test func aTrialThatEndsInARevokedGrantClosesTheCircuitForEveryoneElse() {
        // The bug this machine fixes: a trial ending in invalid_grant used to leave the trial marked in flight.
        let paused = CircuitState(failures: 5, openUntil: at(-1), version: 5)
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        _ = m.contextResolved(circuit: paused, now: at(0))
        _ = m.trialClaimed(true, current: CircuitState(failures: 5, openUntil: at(-1), trialOwner: "me", trialUntil: at(15), version: 6), now: at(0))
        #expect(m.providerFailed(.reauthRequired(reason: "invalid_grant"), now: at(1), jitter: 0) == .recordCircuit(.answered))
        #expect(isRecordFailure(m.circuitRecorded(.closed, now: at(1)), status: .needsReauth, reason: "invalid_grant") != nil)
        #expect(m.failureRecorded() == .finish(.refused(.reauth(reason: "invalid_grant")), releaseLease: false, releaseTrial: false))
        // So does a trial ending in invalid_client.
        var n = machine(.proactive, leased: true)
        _ = n.start()
        _ = n.loaded(claimed, now: at(0))
        _ = n.contextResolved(circuit: paused, now: at(0))
        _ = n.trialClaimed(true, current: CircuitState(failures: 5, openUntil: at(-1), trialOwner: "me", trialUntil: at(15), version: 6), now: at(0))
        #expect(n.providerFailed(.clientRefused, now: at(1), jitter: 0) == .recordCircuit(.answered))
        #expect(n.circuitRecorded(.closed, now: at(1)) == .markIntegrationMisconfigured)
    }

    @Test func aTrialRefusedByThePolicyIsGivenBack() {
        let paused = CircuitState(failures: 5, openUntil: at(-1), version: 5)
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        _ = m.contextResolved(circuit: paused, now: at(0))
        _ = m.trialClaimed(true, current: CircuitState(failures: 5, openUntil: at(-1), trialOwner: "me", trialUntil: at(15), version: 6), now: at(0))
        #expect(m.providerFailed(.policyRefused, now: at(1), jitter: 0) == .recordCircuit(.releaseTrial))
        #expect(isRecordFailure(m.circuitRecorded(paused, now: at(1)), status: nil, reason: "outbound_policy") != nil)
        #expect(!m.holdsTrial)
    }

    @Test func aFailedTrialPausesAgainAndLosingTheTrialToAnotherInstanceWaits() {
        let paused = CircuitState(failures: 5, openUntil: at(-1), version: 5)
        var m = machine(.proactive, leased: true)
        _ = m.start()
        _ = m.loaded(claimed, now: at(0))
        _ = m.contextResolved(circuit: paused, now: at(0))
        _ = m.trialClaimed(true, current: CircuitState(failures: 5, openUntil: at(-1), trialOwner: "me", trialUntil: at(15), version: 6), now: at(0))
        #expect(m.providerFailed(.transient(retryAfter: nil), now: at(1), jitter: 0) == .recordCircuit(.failed))
        #expect(
            isRecordFailure(m.circuitRecorded(CircuitState(failures: 6, openUntil: at(31), version: 7), now: at(1)), status: nil, reason: "transient")
                != nil
        )

        var n = machine(.proactive, leased: true)
        _ = n.start()
        _ = n.loaded(claimed, now: at(0))
        _ = n.contextResolved(circuit: paused, now: at(0))
        let theirs = CircuitState(failures: 5, openUntil: at(-1), trialOwner: "other", trialUntil: at(15), version: 6)
        #expect(
            n.trialClaimed(false, current: theirs, now: at(0))
                == .finish(.refused(.circuitOpen(retryAfter: 15)), releaseLease: true, releaseTrial: false)
        )
        // The other trial already closed it: call.
        var p = machine(.proactive, leased: true)
        _ = p.start()
        _ = p.loaded(claimed, now: at(0))
        _ = p.contextResolved(circuit: paused, now: at(0))
        #expect(p.trialClaimed(false, current: CircuitState(version: 7), now: at(0)) == .callProvider(attempt: 0))
    }
}
