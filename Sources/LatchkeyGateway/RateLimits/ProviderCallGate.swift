public import Foundation
public import LatchkeyCore
public import LatchkeyLifecycle
import LatchkeyOAuthClient
public import LatchkeyProviders
import LatchkeyStorage
public import Logging
import Metrics
import Synchronization

/// What every call to a provider passes before it is sent and reports after (DESIGN §4 "Invoke"): the shared circuit
/// of the integration (open → `provider_unavailable`), then the fair share of the Connection's rate budget
/// (`rate_limited` with `Retry-After` for an end user over their share while the budget is near capacity). After
/// the answer, the provider's rate-limit headers lower the budget, a provider 429 becomes `rate_limited` with the
/// provider's own `Retry-After`, and 5xx answers and unreachable providers count into the circuit.
///
/// No database round trip on a call: the policies are cached from the catalog and the Connections' overrides, the
/// budget shared by all instances is leased in slices (``RateBudgetSlices``), the circuit is read through its
/// short-lived cache, and a circuit is written to only when a call fails or follows failures.
public struct ProviderCallGate: Sendable {
    /// The budget of a Connection whose provider names none in the catalog.
    public static let fallbackPolicy = RateLimitPolicy(budget: 1000, window: 60)

    public let limiter: FairRateLimiter
    public let slices: RateBudgetSlices
    let circuit: CircuitBreaker?
    let policies: RateLimitPolicies
    let clock: any LatchkeyClock
    let logger: Logger
    /// Who claims a circuit's trial call from this instance.
    let owner: String
    /// When the near-limit gauge was last refreshed.
    let gaugedAt = GaugeSchedule()

    public init(
        store: any RateBudgetLeaseStore,
        circuit: CircuitBreaker?,
        clock: any LatchkeyClock,
        configuration: FairRateLimiterConfiguration = .init(),
        overrides: RateLimitPolicies.Overrides? = nil,
        logger: Logger
    ) {
        let policies = RateLimitPolicies(fallback: Self.fallbackPolicy, overrides: overrides)
        self.policies = policies
        self.limiter = FairRateLimiter(clock: clock, configuration: configuration) { policies.policy($0) }
        self.slices = RateBudgetSlices(store: store)
        self.circuit = circuit
        self.clock = clock
        self.logger = logger
        self.owner = "gateway-\(UUID().uuidString.lowercased())"
    }

    /// Admits one call of `endUser` through `credential`'s Connection, or refuses it with `provider_unavailable` or
    /// `rate_limited`. `name` is the provider's name shown to people.
    public func admit(
        credential: Credential,
        integration: Integration,
        provider: Provider,
        endUser: String?,
        name: String
    ) async throws -> ProviderCallTicket {
        var ticket = ProviderCallTicket(
            gate: self,
            connectionID: credential.connectionID,
            integration: integration,
            rateLimitHeaders: provider.rateLimitHeaders,
            name: name
        )
        ticket.circuitDirty = try await checkCircuit(integration, name: name)
        await policies.note(credential.connectionID, integrationKey: integration.key, default: provider.rateLimit, now: clock.now)
        let user = endUser ?? credential.externalUserID ?? credential.endUserID ?? "shared"
        let decision = await limiter.admit(connectionID: credential.connectionID, endUser: user, sharing: slices)
        if gaugedAt.due(clock.now, every: 1) { recordGauges(now: clock.now) }
        switch decision {
        case .admitted:
            Counter(label: "latchkey_rate_limit_admitted_total", dimensions: [("integration", integration.key)]).increment()
            return ticket
        case .throttled(_, let reason):
            Counter(
                label: "latchkey_rate_limit_throttled_total",
                dimensions: [("integration", integration.key), ("reason", reason.rawValue)]
            ).increment()
            let seconds = decision.retryAfterSeconds ?? 1
            let why =
                switch reason {
                case .overFairShare: "you have made more than your share of the calls allowed to \(name) on this connection"
                case .budgetExhausted: "all the calls allowed to \(name) on this connection in the current window are used"
                case .providerLimit: "\(name) said no more calls are allowed until its limit resets"
                }
            throw LatchkeyError(
                .rateLimited,
                "Too many calls: \(why). Try again in \(seconds) seconds.",
                action: .init(type: "retry"),
                retryAfter: seconds
            )
        }
    }

    /// Refuses the call while the integration's circuit is open; claims the trial call when the pause is over.
    /// Answers whether the circuit has something to clear when the call succeeds. A circuit that cannot be read
    /// lets the call go (the database may be away; the provider may be fine).
    private func checkCircuit(_ integration: Integration, name: String) async throws -> Bool {
        guard let circuit else { return false }
        do {
            var state = try await circuit.recentState(of: integration)
            var decision = circuit.policy.decide(state, owner: owner, now: clock.now)
            if decision == .trialAvailable {
                let (won, current) = try await circuit.claimTrial(integration, owner: owner, seen: state)
                state = current
                decision = won ? .closed : circuit.policy.decide(current, owner: owner, now: clock.now)
            }
            if case .open(let retryAfter) = decision {
                Counter(label: "latchkey_gateway_circuit_refusals_total", dimensions: [("integration", integration.key)]).increment()
                throw LatchkeyError(
                    .providerUnavailable,
                    "\(name) failed several times in a row, so Latchkey paused calls to it. This is temporary: "
                        + "try again in \(retryAfter) seconds.",
                    action: .init(type: "retry"),
                    retryAfter: retryAfter
                )
            }
            return !state.isClean
        } catch let error as LatchkeyError where error.code == .providerUnavailable {
            throw error
        } catch is DatabaseUnreachable {
            // Degraded mode: the outage is logged once by the database, not on every call.
            return false
        } catch {
            logger.warning("circuit not readable; call goes on", metadata: ["integration": "\(integration.key)", "error": "\(error)"])
            return false
        }
    }

    func record(_ outcome: CircuitBreaker.Outcome, for integration: Integration) async {
        guard let circuit else { return }
        do {
            try await circuit.record(outcome, for: integration)
        } catch {
            logger.warning("circuit not recorded", metadata: ["integration": "\(integration.key)", "error": "\(error)"])
        }
    }

    /// The policies in force now, for the refill task and the usage API.
    public func policy(_ connectionID: String) -> RateLimitPolicy { policies.policy(connectionID) }

    /// Reads `connectionID`'s own budget again on its next call (it was just changed here).
    public func invalidatePolicy(_ connectionID: String) { policies.invalidate(connectionID) }

    /// The integration key of a Connection the gate has seen, for metric labels.
    public func integrationKey(_ connectionID: String) -> String? { policies.integrationKey(connectionID) }

    /// Leases ahead for the Connections running low and refreshes the near-limit gauge; the runtime's background
    /// task runs it every few hundred milliseconds.
    public func tick(now: Date) async {
        do {
            try await slices.refill(now: now) { policies.policy($0) }
        } catch {
            logger.debug("rate budget refill failed; calls decide locally", metadata: ["error": "\(error)"])
        }
        recordGauges(now: now)
    }

    /// Sets `latchkey_rate_budget_used_ratio` of every integration seen to its busiest Connection's ratio.
    func recordGauges(now: Date) {
        var ratios: [String: Double] = [:]
        for usage in limiter.usages(now: now) {
            guard let key = policies.integrationKey(usage.connectionID) else { continue }
            let ratio = usage.budget > 0 ? Double(usage.used) / Double(usage.budget) : 1
            ratios[key] = max(ratios[key] ?? 0, ratio)
        }
        for key in policies.integrationKeys() {
            Gauge(label: "latchkey_rate_budget_used_ratio", dimensions: [("integration", key)]).record(ratios[key] ?? 0)
        }
    }
}

/// Remembers when something periodic last ran.
final class GaugeSchedule: Sendable {
    private let last = Mutex<Date?>(nil)

    /// Whether `every` seconds passed since the last time it was due (and marks it due now).
    func due(_ now: Date, every: TimeInterval) -> Bool {
        last.withLock { last in
            if let previous = last, now.timeIntervalSince(previous) < every, now >= previous { return false }
            last = now
            return true
        }
    }
}
