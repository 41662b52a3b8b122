public import Foundation
public import LatchkeyCore

/// The events of ``RefreshStateMachine``: each answers the action before it and returns the next action. An event
/// that does not answer the current action is a bug in the driver and stops the process.
extension RefreshStateMachine {
    /// The credential row was read (nil: it is gone).
    public mutating func loaded(_ row: Row?, now: Date) -> Action {
        guard state == .loading else { invalid("loaded") }
        guard let row else { return finish(.refused(.notFound)) }
        guard row.status == .active else { return finish(.refused(.reauth(reason: row.statusReason ?? row.status.rawValue))) }
        if holdsLease {
            guard row.leaseOwner == owner, let until = row.leaseUntil, until > now else {
                // The lease this run held (or was handed with a bulk claim that waited in a queue) is gone: never call
                // the provider on it; wait for whoever holds it and read their result, like any other caller.
                holdsLease = false
                trustsClaim = false
                return loaded(row, now: now)
            }
            // Read again under the lease: someone may have refreshed between our first read and our claim.
            if !trustsClaim, refreshedMeanwhile(row, now: now) { return finish(.stored) }
            if until.timeIntervalSince(now) < configuration.providerTimeout {
                state = .renewingClaim(row)
                return .renewLease(until: now.addingTimeInterval(configuration.leaseLength))
            }
            return underLease(row, now: now)
        }
        if !trustsClaim, refreshedMeanwhile(row, now: now) { return finish(.stored) }
        state = .acquiringLease
        return .acquireLease(until: now.addingTimeInterval(configuration.leaseLength))
    }

    public mutating func leaseAcquired(_ won: Bool, now: Date) -> Action {
        guard state == .acquiringLease else { invalid("leaseAcquired") }
        if won {
            holdsLease = true
            state = .loading
            return .load  // read again under the lease: someone may have refreshed between our read and our claim
        }
        if now.timeIntervalSince(started) > configuration.waitLimit { return finish(.refused(.waitedTooLong)) }
        state = .waiting
        return .sleep(seconds: configuration.waitPoll)
    }

    public mutating func slept(now: Date) -> Action {
        switch state {
        case .waiting:
            state = .loading
            return .load
        case .backingOff(let row):
            return call(row, now: now)
        default:
            invalid("slept")
        }
    }

    /// The provider context is known; `circuit` is the integration's circuit as stored now.
    public mutating func contextResolved(circuit: CircuitState, now: Date) -> Action {
        guard case .resolving(let row) = state else { invalid("contextResolved") }
        circuitBefore = circuit
        return decide(row, circuit: circuit, now: now, afterLostTrial: false)
    }

    public mutating func contextFailed() -> Action {
        guard case .resolving = state else { invalid("contextFailed") }
        return finish(.refused(.noContext))
    }

    /// Whether this instance won the trial; `current` is the circuit as stored after the attempt.
    public mutating func trialClaimed(_ won: Bool, current: CircuitState, now: Date) -> Action {
        guard case .claimingTrial(let row) = state else { invalid("trialClaimed") }
        circuitBefore = current
        if won {
            holdsTrial = true
            return call(row, now: now)
        }
        return decide(row, circuit: current, now: now, afterLostTrial: true)
    }

    /// The provider returned tokens (the driver keeps them).
    public mutating func providerAnswered(now: Date) -> Action {
        guard case .calling(let row) = state else { invalid("providerAnswered") }
        return recordAnswered(row, then: .save, now: now)
    }

    /// The provider call failed. `jitter` is a random number in 0...1 (fixed in tests).
    public mutating func providerFailed(_ failure: ProviderFailure, now: Date, jitter: Double) -> Action {
        guard case .calling(let row) = state else { invalid("providerFailed") }
        switch failure {
        case .transient(let retryAfter):
            state = .recordingCircuit(row, then: .transient(retryAfter: retryAfter, jitter: jitter))
            return .recordCircuit(.failed)
        case .badResponse:
            state = .recordingCircuit(row, then: .badResponse)
            return .recordCircuit(.failed)
        case .reauthRequired(let reason):
            return recordAnswered(row, then: .reauth(reason: reason), now: now)
        case .clientRefused:
            return recordAnswered(row, then: .clientRefused, now: now)
        case .policyRefused:
            guard holdsTrial else { return after(.policyRefused, row: row, circuit: circuitBefore, now: now) }
            state = .recordingCircuit(row, then: .policyRefused)
            return .recordCircuit(.releaseTrial)
        }
    }

    /// The circuit outcome is stored; `circuit` is the circuit now.
    public mutating func circuitRecorded(_ circuit: CircuitState, now: Date) -> Action {
        guard case .recordingCircuit(let row, let then) = state else { invalid("circuitRecorded") }
        holdsTrial = false
        return after(then, row: row, circuit: circuit, now: now)
    }

    /// Whether the lease is still ours (before a retry, or renewing a claim about to run out).
    public mutating func leaseRenewed(_ held: Bool, now: Date) -> Action {
        if case .renewingClaim(let row) = state {
            guard held else {
                holdsLease = false
                trustsClaim = false
                state = .loading
                return .load
            }
            return underLease(row, now: now)
        }
        guard case .renewingLease(let row, let wait) = state else { invalid("leaseRenewed") }
        guard held else {
            // Lost: never call the provider again from this run; wait for whoever holds it and read their result.
            holdsLease = false
            trustsClaim = false
            state = .loading
            return .load
        }
        state = .backingOff(row)
        return .sleep(seconds: wait)
    }

    public mutating func integrationMarked(now: Date) -> Action {
        guard case .markingIntegration(let row) = state else { invalid("integrationMarked") }
        // Look again in an hour: an administrator may have fixed the client by then.
        return recordFailure(
            Failure(status: nil, reason: FailureReason.invalidClient.rawValue, retryAt: now.addingTimeInterval(3600)),
            then: staleOr(.clientRefused, row: row, now: now)
        )
    }

    /// The failure is written (or the lease was no longer ours and nothing was written); the lease is released.
    public mutating func failureRecorded() -> Action {
        guard case .recordingFailure(let then) = state else { invalid("failureRecorded") }
        holdsLease = false
        return finish(then)
    }

    /// Whether the new tokens were saved (false: the lease was lost meanwhile).
    public mutating func tokensSaved(_ saved: Bool) -> Action {
        guard state == .saving else { invalid("tokensSaved") }
        holdsLease = false
        return finish(saved ? .refreshed : .reloadStored)
    }

    // MARK: - Decisions

    private func refreshedMeanwhile(_ row: Row, now: Date) -> Bool {
        if let last = row.lastRefreshedAt, last >= started { return true }
        return trigger == .onDemand && !Self.needsRefresh(expiresAt: row.expiresAt, now: now, margin: configuration.margin)
    }

    private mutating func underLease(_ row: Row, now: Date) -> Action {
        guard row.hasRefreshToken else {
            let expired = Self.expired(row, now: now)
            return recordFailure(
                Failure(status: expired ? .expired : nil, reason: FailureReason.noRefreshToken.rawValue, retryAt: nil),
                then: expired ? .refused(.reauth(reason: FailureReason.noRefreshToken.rawValue)) : .stored
            )
        }
        state = .resolving(row)
        return .resolveContext
    }

    private mutating func decide(_ row: Row, circuit: CircuitState, now: Date, afterLostTrial: Bool) -> Action {
        switch configuration.circuit.decide(circuit, owner: owner, now: now) {
        case .closed:
            return call(row, now: now)
        case .trialAvailable where !afterLostTrial:
            state = .claimingTrial(row)
            return .claimTrial(circuit)
        case .trialAvailable:
            return finish(staleOr(.circuitOpen(retryAfter: 1), row: row, now: now))
        case .open(let retryAfter):
            return finish(staleOr(.circuitOpen(retryAfter: retryAfter), row: row, now: now))
        }
    }

    private mutating func call(_ row: Row, now: Date) -> Action {
        if firstCallAt == nil { firstCallAt = now }
        state = .calling(row)
        let attempt = attempts
        attempts += 1
        return .callProvider(attempt: attempt)
    }

    /// The provider answered: tell the circuit when there is something to reset or a trial to end.
    private mutating func recordAnswered(_ row: Row, then: AfterCircuit, now: Date) -> Action {
        guard holdsTrial || !circuitBefore.isClean else { return after(then, row: row, circuit: circuitBefore, now: now) }
        state = .recordingCircuit(row, then: then)
        return .recordCircuit(.answered)
    }

    private mutating func after(_ then: AfterCircuit, row: Row, circuit: CircuitState, now: Date) -> Action {
        switch then {
        case .save:
            state = .saving
            return .saveTokens
        case .transient(let retryAfter, let jitter):
            let attempt = attempts - 1
            let wait = min(Double(retryAfter ?? 0), 5) + configuration.backoff * pow(2, Double(attempt)) * (0.5 + jitter)
            // A caller is waiting: retry, but not past the time budget (a provider that does not answer at all would
            // otherwise hold the caller for every attempt's full timeout), and not into an open circuit.
            let spent = now.timeIntervalSince(firstCallAt ?? now)
            if trigger == .onDemand, attempt < configuration.retries, spent + wait < configuration.onDemandBudget, !circuit.isOpen(now: now) {
                state = .renewingLease(row, wait: wait)
                return .renewLease(until: now.addingTimeInterval(configuration.leaseLength + wait))
            }
            let failures = row.refreshFailures + 1
            let delay = min(30 * pow(2, Double(failures - 1)), 3600) * (0.8 + 0.4 * jitter)
            return recordFailure(
                Failure(status: nil, reason: FailureReason.transient.rawValue, retryAt: now.addingTimeInterval(delay)),
                then: staleOr(.providerUnreachable(retryAfter: retryAfter), row: row, now: now)
            )
        case .badResponse:
            return recordFailure(
                Failure(status: nil, reason: FailureReason.badResponse.rawValue, retryAt: now.addingTimeInterval(300)),
                then: staleOr(.providerUnreachable(retryAfter: nil), row: row, now: now)
            )
        case .reauth(let reason):
            return recordFailure(Failure(status: .needsReauth, reason: reason, retryAt: nil), then: .refused(.reauth(reason: reason)))
        case .clientRefused:
            // The credential is fine; the client is not. The integration is marked, the credential left as it is.
            state = .markingIntegration(row)
            return .markIntegrationMisconfigured
        case .policyRefused:
            return recordFailure(
                Failure(status: nil, reason: FailureReason.outboundPolicy.rawValue, retryAt: now.addingTimeInterval(3600)),
                then: staleOr(.policyRefused, row: row, now: now)
            )
        }
    }

    private mutating func recordFailure(_ failure: Failure, then: Outcome) -> Action {
        state = .recordingFailure(then: then)
        return .recordFailure(failure)
    }

    /// A caller who asked for a token that is still valid gets it despite the failure; otherwise the refusal.
    private func staleOr(_ refusal: Refusal, row: Row, now: Date) -> Outcome {
        trigger == .onDemand && !Self.expired(row, now: now) ? .stored : .refused(refusal)
    }

    private mutating func finish(_ outcome: Outcome) -> Action {
        state = .finished
        return .finish(outcome, releaseLease: holdsLease, releaseTrial: holdsTrial)
    }

    static func expired(_ row: Row, now: Date) -> Bool {
        row.expiresAt.map { $0 <= now } ?? false
    }

    private func invalid(_ event: String) -> Never {
        preconditionFailure("refresh state machine: \(event) in state \(state)")
    }
}
