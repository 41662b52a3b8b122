import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyStorage
import Logging

/// One refresh, driven: performs each action of a ``RefreshStateMachine`` (database, circuit, provider) and feeds
/// back what happened. All decisions are the machine's; this type only does I/O, metrics and logs.
struct RefreshRun {
    let coordinator: RefreshCoordinator
    let id: String
    let tenantID: String
    let trigger: RefreshStateMachine.Trigger
    private var machine: RefreshStateMachine
    private var loaded: (stored: StoredCredential, secret: CredentialSecret)?
    private var context: ProviderContext?
    private var contextError: (any Error)?
    private var tokens: TokenSet?
    private var lastError: OAuthClientError?
    private var saved: (Credential, CredentialSecret)?
    private var callStarted: Date?

    init(coordinator: RefreshCoordinator, id: String, tenantID: String, trigger: RefreshStateMachine.Trigger, leased: Bool) {
        self.coordinator = coordinator
        self.id = id
        self.tenantID = tenantID
        self.trigger = trigger
        self.machine = RefreshStateMachine(
            configuration: coordinator.configuration,
            trigger: trigger,
            owner: coordinator.owner,
            leased: leased,
            started: coordinator.clock.now
        )
    }

    private var vault: CredentialVault { coordinator.vault }
    private var clock: any LatchkeyClock { coordinator.clock }
    private var actor: AuditActor { AuditActor(id: "system:refresh", userAgent: trigger.rawValue) }
    private var name: String { context?.name ?? loaded?.stored.credential.integrationKey ?? "the service" }

    mutating func perform() async throws -> (Credential, CredentialSecret) {
        var action = machine.start()
        while true {
            if case .finish(let outcome, let releaseLease, let releaseTrial) = action {
                try await release(lease: releaseLease, trial: releaseTrial)
                return try await result(of: outcome)
            }
            do {
                action = try await perform(action)
            } catch {
                await abandon()
                throw error
            }
        }
    }

    private mutating func perform(_ action: RefreshStateMachine.Action) async throws -> RefreshStateMachine.Action {
        switch action {
        case .load:
            loaded = try await vault.load(id: id, tenantID: tenantID)
            return machine.loaded(loaded.map { Self.row($0.stored, $0.secret) }, now: clock.now)
        case .acquireLease(let until):
            let won = try await vault.acquireLease(id: id, tenantID: tenantID, owner: coordinator.owner, until: until)
            return machine.leaseAcquired(won, now: clock.now)
        case .sleep(let seconds):
            try await clock.sleep(for: .milliseconds(Int((seconds * 1000).rounded(.up))))
            return machine.slept(now: clock.now)
        case .resolveContext:
            guard let credential = loaded?.stored.credential else { return machine.contextFailed() }
            do {
                context = try await coordinator.resolver.context(for: credential)
            } catch {
                contextError = error
                return machine.contextFailed()
            }
            let circuit = try await coordinator.circuit.recentState(of: context!.integration)
            return circuitChecked(machine.contextResolved(circuit: circuit, now: clock.now))
        case .claimTrial(let seen):
            let (won, current) = try await coordinator.circuit.claimTrial(context!.integration, owner: coordinator.owner, seen: seen)
            return circuitChecked(machine.trialClaimed(won, current: current, now: clock.now))
        case .callProvider(let attempt):
            return await callProvider(attempt: attempt)
        case .recordCircuit(let outcome):
            let recorded: CircuitBreaker.Outcome =
                switch outcome {
                case .answered: .answered
                case .failed: .failed
                case .releaseTrial: .releaseTrial(owner: coordinator.owner)
                }
            let circuit = try await coordinator.circuit.record(recorded, for: context!.integration)
            return machine.circuitRecorded(circuit, now: clock.now)
        case .renewLease(let until):
            let held = try await vault.renewLease(id: id, owner: coordinator.owner, until: until)
            if !held { coordinator.logger.warning("refresh lease lost", metadata: ["credential_id": "\(id)"]) }
            return machine.leaseRenewed(held, now: clock.now)
        case .markIntegrationMisconfigured:
            try await coordinator.resolver.integrations.markMisconfigured(context!.integration, reason: "invalid_client")
            return machine.integrationMarked(now: clock.now)
        case .recordFailure(let failure):
            var details = ["trigger": trigger.rawValue]
            if let lastError { details["error"] = lastError.description }
            let updated = try await vault.failRefresh(
                id: id,
                tenantID: tenantID,
                owner: coordinator.owner,
                status: failure.status,
                reason: failure.reason,
                retryAt: failure.retryAt,
                actor: actor,
                details: details
            )
            if updated == nil {
                coordinator.logger.info("refresh failure not recorded: the lease was no longer held", metadata: ["credential_id": "\(id)"])
            } else if failure.status == .needsReauth {
                coordinator.logger.warning("credential needs reauthorization", metadata: ["credential_id": "\(id)", "reason": "\(failure.reason)"])
            }
            return machine.failureRecorded()
        case .saveTokens:
            return try await saveTokens()
        case .finish:
            preconditionFailure("finish is handled by perform()")
        }
    }

    private mutating func callProvider(attempt: Int) async -> RefreshStateMachine.Action {
        RefreshMetrics.attempt(trigger)
        callStarted = clock.now
        guard let context, let refreshToken = loaded?.secret.refreshToken else { preconditionFailure("a call needs a context and a refresh token") }
        do {
            tokens = try await coordinator.oauth.refresh(
                provider: context.provider,
                endpoints: context.endpoints,
                client: context.client,
                refreshToken: refreshToken,
                scopes: nil
            )
            return machine.providerAnswered(now: clock.now)
        } catch {
            lastError = error
            let failure = Self.failure(of: error)
            RefreshMetrics.failure(failure)
            coordinator.logger.info(
                "refresh attempt failed",
                metadata: ["credential_id": "\(id)", "integration": "\(context.integration.key)", "attempt": "\(attempt + 1)", "error": "\(error)"]
            )
            return machine.providerFailed(failure, now: clock.now, jitter: coordinator.random.unit())
        }
    }

    private mutating func saveTokens() async throws -> RefreshStateMachine.Action {
        guard let tokens, let context, let loaded else { preconditionFailure("saving needs tokens") }
        let rotated = tokens.refreshToken != nil && tokens.refreshToken != loaded.secret.refreshToken
        saved = try await vault.completeRefresh(
            id: id,
            tenantID: tenantID,
            owner: coordinator.owner,
            tokens: .init(
                accessToken: tokens.accessToken,
                refreshToken: rotated ? tokens.refreshToken : nil,
                tokenType: tokens.tokenType,
                idToken: tokens.idToken,
                expiresAt: tokens.expiresAt,
                scopes: tokens.scopes
            ),
            policy: context.policy,
            actor: actor,
            details: ["trigger": trigger.rawValue, "attempt": String(machineAttempts)]
        )
        if saved != nil {
            RefreshMetrics.success(
                trigger,
                lag: loaded.stored.credential.refreshDueAt.map { clock.now.timeIntervalSince($0) },
                duration: clock.now.timeIntervalSince(callStarted ?? clock.now)
            )
            coordinator.logger.info(
                "credential refreshed",
                metadata: ["credential_id": "\(id)", "integration": "\(context.integration.key)", "trigger": "\(trigger.rawValue)"]
            )
        } else {
            coordinator.logger.warning("refreshed tokens not saved: the lease was lost meanwhile", metadata: ["credential_id": "\(id)"])
        }
        return machine.tokensSaved(saved != nil)
    }

    private var machineAttempts: Int { machine.attemptsMade }

    /// After the circuit was consulted: a run that ends there was paused by it.
    private func circuitChecked(_ action: RefreshStateMachine.Action) -> RefreshStateMachine.Action {
        if case .finish = action { RefreshMetrics.circuitOpen() }
        return action
    }

    private func release(lease: Bool, trial: Bool) async throws {
        if trial, let context { try await coordinator.circuit.record(.releaseTrial(owner: coordinator.owner), for: context.integration) }
        if lease { try await vault.releaseLease(id: id, owner: coordinator.owner) }
    }

    /// An I/O error mid-way: give back what is held, best effort (the lease and the trial expire anyway).
    private func abandon() async {
        try? await release(lease: machine.holdsLease, trial: machine.holdsTrial)
    }

    private func result(of outcome: RefreshStateMachine.Outcome) async throws -> (Credential, CredentialSecret) {
        switch outcome {
        case .stored:
            guard let loaded else { throw LatchkeyError.notFound("credential") }
            return (loaded.stored.credential, loaded.secret)
        case .refreshed:
            guard let saved else { throw LatchkeyError.notFound("credential") }
            return saved
        case .reloadStored:
            guard let (current, secret) = try await vault.load(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("credential") }
            return (current.credential, secret)
        case .refused(let refusal):
            throw error(for: refusal)
        }
    }

    private func error(for refusal: RefreshStateMachine.Refusal) -> any Error {
        switch refusal {
        case .notFound:
            return LatchkeyError.notFound("credential")
        case .reauth(let reason):
            return RefreshCoordinator.reauth(reason: reason, name: name)
        case .waitedTooLong:
            return LatchkeyError(.unavailable, "Another server has been refreshing this credential for too long; please try again.")
        case .circuitOpen(let retryAfter):
            return LatchkeyError(
                .providerUnavailable,
                "\(name) is failing right now; calls are paused for \(retryAfter) s.",
                action: .init(type: "retry"),
                retryAfter: retryAfter
            )
        case .providerUnreachable(let retryAfter):
            return LatchkeyError(
                .providerUnreachable,
                lastError?.message(providerName: name) ?? "Cannot reach \(name). Please try again.",
                action: .init(type: "retry"),
                retryAfter: retryAfter
            )
        case .clientRefused:
            return LatchkeyError(
                .unavailable,
                "\(name) refused this server's OAuth client. An administrator needs to check the integration's client id and secret."
            )
        case .policyRefused:
            return LatchkeyError(.unavailable, lastError?.message(providerName: name) ?? "Latchkey's outbound policy refused to call \(name).")
        case .noContext:
            return contextError ?? LatchkeyError.notFound("credential")
        }
    }

    static func row(_ stored: StoredCredential, _ secret: CredentialSecret) -> RefreshStateMachine.Row {
        let credential = stored.credential
        return RefreshStateMachine.Row(
            status: credential.status,
            statusReason: credential.statusReason,
            expiresAt: credential.expiresAt,
            lastRefreshedAt: credential.lastRefreshedAt,
            refreshFailures: credential.refreshFailures,
            hasRefreshToken: secret.refreshToken != nil,
            leaseOwner: stored.leaseOwner,
            leaseUntil: stored.leaseUntil
        )
    }

    /// The machine's view of a provider error.
    static func failure(of error: OAuthClientError) -> RefreshStateMachine.ProviderFailure {
        // Refused by the outbound policy before anything was sent: a configuration problem, not the provider's.
        if error.isPolicyRefusal { return .policyRefused }
        switch error.classification {
        case .transient(let retryAfter): return .transient(retryAfter: retryAfter)
        case .reauthRequired(let reason): return .reauthRequired(reason: reason)
        case .clientMisconfigured: return .clientRefused
        case .badResponse: return .badResponse
        }
    }
}
