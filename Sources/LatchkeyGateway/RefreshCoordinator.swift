public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyStorage
public import Logging
import Metrics

/// Refreshes access tokens so that each credential is refreshed by exactly one caller at a time across all
/// instances (DESIGN §4): callers in this process share one task per credential; across processes a database lease,
/// committed before the provider is called, decides who refreshes, and the others wait and re-read. No transaction
/// is held open across the provider call; the result is written with a fence on the row version.
public actor RefreshCoordinator {
    public struct Configuration: Sendable {
        /// How long a lease holds: the provider timeout plus a margin for clock skew.
        public var leaseLength: TimeInterval = 15
        /// An access token this close to expiry is refreshed before it is handed out.
        public var margin: TimeInterval = 60
        /// Retries after the first attempt, for network errors, 5xx and 429, when a caller is waiting.
        public var retries = 3
        /// The first backoff; each retry doubles it, with jitter.
        public var backoff: TimeInterval = 0.5
        /// How long an on-demand refresh may keep a caller waiting across retries.
        public var onDemandBudget: TimeInterval = 12
        /// How often a caller waiting for another instance's refresh looks again.
        public var waitPoll: Duration = .milliseconds(100)

        public init() {}
    }

    /// Why a refresh runs.
    public enum Trigger: String, Sendable {
        case onDemand = "on_demand"
        case proactive
    }

    /// What happened, for webhooks and health.
    public enum Event: Sendable {
        case needsReauth(Credential, reason: String)
        case integrationMisconfigured(Integration)
    }

    let vault: CredentialVault
    let resolver: ProviderResolver
    let oauth: OAuthClient
    let clock: any LatchkeyClock
    let owner: String
    public let circuit: CircuitBreaker
    let configuration: Configuration
    let logger: Logger
    let onEvent: @Sendable (Event) async -> Void
    private var inFlight: [String: Task<(Credential, CredentialSecret), any Error>] = [:]

    public init(
        vault: CredentialVault,
        resolver: ProviderResolver,
        oauth: OAuthClient,
        clock: any LatchkeyClock,
        owner: String = "instance-" + UUID().uuidString.lowercased(),
        circuit: CircuitBreaker? = nil,
        configuration: Configuration = .init(),
        logger: Logger,
        onEvent: @escaping @Sendable (Event) async -> Void = { _ in }
    ) {
        self.vault = vault
        self.resolver = resolver
        self.oauth = oauth
        self.clock = clock
        self.owner = owner
        self.circuit = circuit ?? CircuitBreaker(clock: clock)
        self.configuration = configuration
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Whether a credential's access token must be refreshed before it is handed out.
    public nonisolated func needsRefresh(_ credential: Credential, now: Date) -> Bool {
        guard let expiresAt = credential.expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= configuration.margin
    }

    /// A usable access token for the credential: refreshed first when it has expired or is about to.
    public func freshToken(id: String, tenantID: String) async throws -> (Credential, CredentialSecret) {
        guard let (stored, secret) = try await vault.load(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("credential") }
        try Self.requireUsable(stored.credential, serviceName: nil)
        if !needsRefresh(stored.credential, now: clock.now) { return (stored.credential, secret) }
        return try await refresh(id: id, tenantID: tenantID, trigger: .onDemand, leased: false)
    }

    /// Refreshes now, sharing the work with any refresh of the same credential already running in this process.
    /// `leased` says the caller already holds the lease (the background refresher claims it in bulk).
    public func refresh(id: String, tenantID: String, trigger: Trigger, leased: Bool) async throws -> (Credential, CredentialSecret) {
        if let running = inFlight[id] { return try await running.value }
        let task = Task { try await self.perform(id: id, tenantID: tenantID, trigger: trigger, leased: leased) }
        inFlight[id] = task
        defer { inFlight[id] = nil }
        return try await task.value
    }

    private func perform(id: String, tenantID: String, trigger: Trigger, leased: Bool) async throws -> (Credential, CredentialSecret) {
        let started = clock.now
        var holdsLease = leased
        var underLease: (StoredCredential, CredentialSecret)
        // Win the lease, or wait for whoever holds it and use their result.
        while true {
            guard let (stored, secret) = try await vault.load(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("credential") }
            do {
                try Self.requireUsable(stored.credential, serviceName: nil)
            } catch {
                if holdsLease { try await vault.releaseLease(id: id, owner: owner) }
                throw error
            }
            let now = clock.now
            // Someone else refreshed it since this caller looked (checked again once the lease is ours).
            let refreshedMeanwhile =
                stored.credential.lastRefreshedAt.map({ $0 >= started }) == true
                || (trigger == .onDemand && !needsRefresh(stored.credential, now: now))
            if !leased, refreshedMeanwhile {
                if holdsLease { try await vault.releaseLease(id: id, owner: owner) }
                return (stored.credential, secret)
            }
            if holdsLease {
                underLease = (stored, secret)  // read while the lease was ours: the refresh starts from it
                break
            }
            if try await vault.acquireLease(id: id, tenantID: tenantID, owner: owner, until: now.addingTimeInterval(configuration.leaseLength)) {
                holdsLease = true
                continue  // re-read under the lease: someone may have refreshed between our read and our claim
            }
            if now.timeIntervalSince(started) > configuration.leaseLength * 2 + 5 {
                throw LatchkeyError(.unavailable, "Another server has been refreshing this credential for too long; please try again.")
            }
            try await clock.sleep(for: configuration.waitPoll)
        }
        return try await refreshHoldingLease(id: id, tenantID: tenantID, trigger: trigger, loaded: underLease)
    }

    private func refreshHoldingLease(
        id: String,
        tenantID: String,
        trigger: Trigger,
        loaded: (StoredCredential, CredentialSecret)
    ) async throws -> (Credential, CredentialSecret) {
        let (stored, secret) = loaded
        let credential = stored.credential
        let actor = AuditActor(id: "system:refresh", userAgent: trigger.rawValue)
        guard let refreshToken = secret.refreshToken else {
            let expired = credential.expiresAt.map { $0 <= clock.now } ?? false
            _ = try await vault.failRefresh(
                id: id,
                tenantID: tenantID,
                owner: owner,
                status: expired ? .expired : nil,
                reason: "no_refresh_token",
                retryAt: nil,
                actor: actor
            )
            if expired { throw Self.reauth(credential, reason: "no_refresh_token", name: credential.integrationKey) }
            return (credential, secret)
        }
        let context: ProviderContext
        do {
            context = try await resolver.context(for: credential)
        } catch {
            try await vault.releaseLease(id: id, owner: owner)
            throw error
        }
        let circuitKey = context.integration.id
        if case .open(let retryAfter) = await circuit.decide(circuitKey) {
            try await vault.releaseLease(id: id, owner: owner)
            Metrics.failure("circuit_open")
            if trigger == .onDemand, !Self.expired(credential, now: clock.now) { return (credential, secret) }
            throw LatchkeyError(
                .providerUnavailable,
                "\(context.name) is failing right now; calls are paused for \(retryAfter) s.",
                action: .init(type: "retry"),
                retryAfter: retryAfter
            )
        }
        var attempt = 0
        let started = clock.now
        while true {
            Metrics.attempt(trigger)
            let callStarted = clock.now
            do {
                let tokens = try await oauth.refresh(
                    provider: context.provider,
                    endpoints: context.endpoints,
                    client: context.client,
                    refreshToken: refreshToken,
                    scopes: nil
                )
                await circuit.recordSuccess(circuitKey)
                let rotated = tokens.refreshToken != nil && tokens.refreshToken != refreshToken
                let saved = try await vault.completeRefresh(
                    id: id,
                    tenantID: tenantID,
                    owner: owner,
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
                    details: ["trigger": trigger.rawValue, "attempt": String(attempt + 1)]
                )
                Metrics.success(
                    trigger,
                    lag: credential.refreshDueAt.map { clock.now.timeIntervalSince($0) },
                    duration: clock.now.timeIntervalSince(callStarted)
                )
                logger.info(
                    "credential refreshed",
                    metadata: ["credential_id": "\(id)", "integration": "\(credential.integrationKey)", "trigger": "\(trigger.rawValue)"]
                )
                if let saved { return saved }
                // The lease was lost (the credential was disconnected meanwhile): answer with what is stored now.
                guard let (current, currentSecret) = try await vault.load(id: id, tenantID: tenantID) else {
                    throw LatchkeyError.notFound("credential")
                }
                return (current.credential, currentSecret)
            } catch let error as OAuthClientError {
                switch error.classification {
                case .transient(let retryAfter):
                    await circuit.recordFailure(circuitKey)
                    Metrics.failure("transient")
                    let wait = min(Double(retryAfter ?? 0), 5) + configuration.backoff * pow(2, Double(attempt)) * Double.random(in: 0.5...1.5)
                    // A caller is waiting: retry, but not past the time budget (a provider that does not answer at
                    // all would otherwise hold the caller for every attempt's full timeout).
                    let withinBudget = clock.now.timeIntervalSince(started) + wait < configuration.onDemandBudget
                    if trigger == .onDemand, attempt < configuration.retries, withinBudget, await !circuit.isOpen(circuitKey) {
                        attempt += 1
                        _ = try await vault.renewLease(id: id, owner: owner, until: clock.now.addingTimeInterval(configuration.leaseLength + wait))
                        try await clock.sleep(for: .milliseconds(Int(wait * 1000)))
                        continue
                    }
                    let failures = credential.refreshFailures + 1
                    let retryAt = clock.now.addingTimeInterval(min(30 * pow(2, Double(failures - 1)), 3600) * Double.random(in: 0.8...1.2))
                    _ = try await vault.failRefresh(
                        id: id,
                        tenantID: tenantID,
                        owner: owner,
                        status: nil,
                        reason: "transient",
                        retryAt: retryAt,
                        actor: actor,
                        details: ["trigger": trigger.rawValue, "error": error.description]
                    )
                    if trigger == .onDemand, !Self.expired(credential, now: clock.now) { return (credential, secret) }
                    throw LatchkeyError(
                        .providerUnreachable,
                        error.message(providerName: context.name),
                        action: .init(type: "retry"),
                        retryAfter: retryAfter
                    )
                case .reauthRequired(let reason):
                    Metrics.failure("needs_reauth")
                    let updated = try await vault.failRefresh(
                        id: id,
                        tenantID: tenantID,
                        owner: owner,
                        status: .needsReauth,
                        reason: reason,
                        retryAt: nil,
                        actor: actor,
                        details: ["trigger": trigger.rawValue]
                    )
                    if let updated { await onEvent(.needsReauth(updated, reason: reason)) }
                    logger.warning("credential needs reauthorization", metadata: ["credential_id": "\(id)", "reason": "\(reason)"])
                    throw Self.reauth(credential, reason: reason, name: context.name)
                case .clientMisconfigured:
                    Metrics.failure("invalid_client")
                    let integration = try await resolver.integrations.setStatus(
                        key: context.integration.key,
                        tenantID: tenantID,
                        status: "misconfigured",
                        reason: "invalid_client"
                    )
                    if let integration { await onEvent(.integrationMisconfigured(integration)) }
                    // The credential is fine; the client is not. Leave it as it is and look again in an hour.
                    _ = try await vault.failRefresh(
                        id: id,
                        tenantID: tenantID,
                        owner: owner,
                        status: nil,
                        reason: "invalid_client",
                        retryAt: clock.now.addingTimeInterval(3600),
                        actor: actor,
                        details: ["trigger": trigger.rawValue]
                    )
                    if trigger == .onDemand, !Self.expired(credential, now: clock.now) { return (credential, secret) }
                    throw LatchkeyError(
                        .unavailable,
                        "\(context.name) refused this server's OAuth client. An administrator needs to check the integration's client id and secret."
                    )
                case .badResponse:
                    await circuit.recordFailure(circuitKey)
                    Metrics.failure("bad_response")
                    _ = try await vault.failRefresh(
                        id: id,
                        tenantID: tenantID,
                        owner: owner,
                        status: nil,
                        reason: "bad_response",
                        retryAt: clock.now.addingTimeInterval(300),
                        actor: actor,
                        details: ["trigger": trigger.rawValue, "error": error.description]
                    )
                    if trigger == .onDemand, !Self.expired(credential, now: clock.now) { return (credential, secret) }
                    throw LatchkeyError(.providerUnreachable, error.message(providerName: context.name), action: .init(type: "retry"))
                }
            }
        }
    }

    static func expired(_ credential: Credential, now: Date) -> Bool {
        credential.expiresAt.map { $0 <= now } ?? false
    }

    static func requireUsable(_ credential: Credential, serviceName: String?) throws {
        switch credential.status {
        case .active: return
        case .needsReauth, .expired, .revoked:
            throw reauth(credential, reason: credential.statusReason ?? credential.status.rawValue, name: serviceName ?? credential.integrationKey)
        }
    }

    static func reauth(_ credential: Credential, reason: String, name: String) -> LatchkeyError {
        let message =
            reason == "provider_revoked" || reason == "invalid_token"
            ? "\(name) revoked access. Please reconnect." : "Your \(name) connection expired. Please reconnect."
        return LatchkeyError(
            reason == "provider_revoked" ? .providerRevoked : .needsReauth,
            message,
            action: .init(type: "reconnect", url: "/connections")
        )
    }
}

/// Prometheus metrics of the refresher.
enum Metrics {
    static func attempt(_ trigger: RefreshCoordinator.Trigger) {
        Counter(label: "latchkey_refresh_attempts_total", dimensions: [("trigger", trigger.rawValue)]).increment()
    }

    static func success(_ trigger: RefreshCoordinator.Trigger, lag: TimeInterval?, duration: TimeInterval) {
        Counter(label: "latchkey_refresh_successes_total", dimensions: [("trigger", trigger.rawValue)]).increment()
        if let lag, trigger == .proactive {
            Recorder(label: "latchkey_refresh_lag_seconds", aggregate: true).record(max(0, lag))
        }
        Timer(label: "latchkey_refresh_duration_seconds").recordNanoseconds(Int64(max(0, duration) * 1e9))
    }

    static func failure(_ reason: String) {
        Counter(label: "latchkey_refresh_failures_total", dimensions: [("reason", reason)]).increment()
    }
}
