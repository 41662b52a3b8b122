public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyStorage
public import Logging
import Metrics
import Tracing

/// Refreshes access tokens so that each credential is refreshed by exactly one caller at a time across all
/// instances (DESIGN §4): callers in this process share one task per credential; across processes a database lease,
/// committed before the provider is called, decides who refreshes, and the others wait and re-read. No transaction
/// is held open across the provider call; the result is written with a fence on the row version.
public actor RefreshCoordinator {
    public typealias Configuration = RefreshStateMachine.Configuration
    public typealias Trigger = RefreshStateMachine.Trigger

    let vault: CredentialVault
    let resolver: ProviderResolver
    let oauth: OAuthClient
    let clock: any LatchkeyClock
    /// Spreads the retries of failed refreshes.
    let random: any RandomSource
    public let owner: String
    public let circuit: CircuitBreaker
    public let configuration: Configuration
    let logger: Logger
    private var inFlight: [String: Task<(Credential, CredentialSecret), any Error>] = [:]

    public init(
        vault: CredentialVault,
        resolver: ProviderResolver,
        oauth: OAuthClient,
        clock: any LatchkeyClock,
        random: any RandomSource = SystemRandom(),
        owner: String = "instance-" + UUID().uuidString.lowercased(),
        circuit: CircuitBreaker? = nil,
        configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.vault = vault
        self.resolver = resolver
        self.oauth = oauth
        self.clock = clock
        self.random = random
        self.owner = owner
        self.circuit =
            circuit ?? CircuitBreaker(store: CircuitRepository(database: vault.database), policy: configuration.circuit, clock: clock)
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether a credential's access token must be refreshed before it is handed out.
    public nonisolated func needsRefresh(_ credential: Credential, now: Date) -> Bool {
        RefreshStateMachine.needsRefresh(expiresAt: credential.expiresAt, now: now, margin: configuration.margin)
    }

    /// A usable access token for the credential: refreshed first when it has expired or is about to. Not isolated:
    /// a token that needs no refresh (nearly every call) is read and opened without queueing on the actor.
    public nonisolated func freshToken(id: String, tenantID: String) async throws -> (Credential, CredentialSecret) {
        guard let (stored, secret) = try await vault.loadForToken(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("credential") }
        try Self.requireUsable(stored.credential, serviceName: nil)
        if !needsRefresh(stored.credential, now: clock.now) { return (stored.credential, secret) }
        return try await refresh(id: id, tenantID: tenantID, trigger: .onDemand, leased: false)
    }

    /// Refreshes now, sharing the work with any refresh of the same credential already running in this process.
    /// `leased` says the caller already holds the lease (the background refresher claims it in bulk).
    public func refresh(id: String, tenantID: String, trigger: Trigger, leased: Bool) async throws -> (Credential, CredentialSecret) {
        if let running = inFlight[id] { return try await running.value }
        let task = Task {
            // A child of the caller's span (the request that needed the token), with the provider call inside it.
            try await withSpan("credential.refresh") { span in
                span.attributes["latchkey.credential_id"] = id
                span.attributes["latchkey.refresh.trigger"] = trigger.rawValue
                var run = RefreshRun(coordinator: self, id: id, tenantID: tenantID, trigger: trigger, leased: leased)
                return try await run.perform()
            }
        }
        inFlight[id] = task
        defer { inFlight[id] = nil }
        return try await task.value
    }

    /// Throws `needs_reauth` (or `provider_revoked`) for a credential that cannot be used until it is connected again.
    public static func requireUsable(_ credential: Credential, serviceName: String?) throws {
        switch credential.status {
        case .active: return
        case .needsReauth, .expired, .revoked:
            throw reauth(reason: credential.statusReason ?? credential.status.rawValue, name: serviceName ?? credential.integrationKey)
        }
    }

    static func reauth(reason: String, name: String) -> LatchkeyError {
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
enum RefreshMetrics {
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

    static func failure(_ failure: RefreshStateMachine.ProviderFailure) {
        let reason =
            switch failure {
            case .transient: "transient"
            case .reauthRequired: "needs_reauth"
            case .clientRefused: "invalid_client"
            case .badResponse: "bad_response"
            case .policyRefused: "outbound_policy"
            }
        Counter(label: "latchkey_refresh_failures_total", dimensions: [("reason", reason)]).increment()
    }

    static func circuitOpen() {
        Counter(label: "latchkey_refresh_failures_total", dimensions: [("reason", "circuit_open")]).increment()
    }
}
