public import Foundation
public import LatchkeyCore
public import LatchkeyStorage
import Metrics

/// One circuit per integration, kept in the database so that every instance counts the same failures and agrees
/// whether a provider is paused (DESIGN §4): after `threshold` consecutive failures calls pause for `openInterval`,
/// then one trial call, claimed by one instance, decides whether they resume. Refresh uses it; the proxy and tools
/// use the same one. The rules live in ``CircuitPolicy``; this type reads and writes the shared state.
public struct CircuitBreaker: Sendable {
    public let store: CircuitRepository
    public let policy: CircuitPolicy
    let clock: any LatchkeyClock
    /// How long a circuit read from the database is reused on the hot path (``recentState(of:)``).
    public let cacheFor: TimeInterval
    let cache = CircuitCache()

    public init(store: CircuitRepository, policy: CircuitPolicy = .init(), clock: any LatchkeyClock, cacheFor: TimeInterval = 1) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.cacheFor = cacheFor
    }

    /// The integration's circuit as stored now.
    public func state(of integration: Integration) async throws -> CircuitState {
        let state = try await store.state(integrationID: integration.id)
        await cache.put(integration.id, state, at: clock.now)
        return state
    }

    /// The integration's circuit as this instance saw it within the last ``cacheFor`` seconds, else as stored now:
    /// calls on the happy path do not read the database each time, and a change made by another instance is seen
    /// within that time. Deciding with a stale value is safe: claiming the trial is a compare-and-set on the stored
    /// version, and this instance's own outcomes update what it remembers at once.
    public func recentState(of integration: Integration) async throws -> CircuitState {
        if let cached = await cache.get(integration.id, now: clock.now, maxAge: cacheFor) { return cached }
        return try await state(of: integration)
    }

    /// Whether calls to the integration's provider are paused right now.
    public func isOpen(_ integration: Integration) async throws -> Bool {
        try await state(of: integration).isOpen(now: clock.now)
    }

    /// Claims the trial call for `owner` if `seen` is still the stored state; returns whether it won and the state now.
    public func claimTrial(_ integration: Integration, owner: String, seen: CircuitState) async throws -> (won: Bool, current: CircuitState) {
        let now = clock.now
        // Only a state in which the trial is free may be claimed (another instance may hold it, or it closed).
        guard policy.decide(seen, owner: owner, now: now) == .trialAvailable else { return (false, try await state(of: integration)) }
        let next = policy.claimingTrial(seen, owner: owner, now: now)
        if try await store.replace(integrationID: integration.id, tenantID: integration.tenantID, expected: seen, with: next, now: now) {
            var stored = next
            stored.version = seen.version + 1
            await cache.put(integration.id, stored, at: now)
            return (true, stored)
        }
        return (false, try await state(of: integration))
    }

    /// What a call taught the circuit.
    public enum Outcome: Sendable {
        /// The provider answered (a token or an OAuth error).
        case answered
        /// The provider failed (network, 5xx, 429, an unusable answer).
        case failed
        /// Nothing was learned: give back the trial `owner` holds.
        case releaseTrial(owner: String)
    }

    /// Records an outcome (compare-and-set, read again on a race); returns the circuit now.
    @discardableResult
    public func record(_ outcome: Outcome, for integration: Integration) async throws -> CircuitState {
        for _ in 0..<20 {
            let now = clock.now
            let current = try await state(of: integration)
            let next: CircuitState
            switch outcome {
            case .answered: next = policy.succeeding(current)
            case .failed: next = policy.failing(current, now: now)
            case .releaseTrial(let owner): next = policy.releasingTrial(current, owner: owner)
            }
            if next == current { return current }
            if try await store.replace(integrationID: integration.id, tenantID: integration.tenantID, expected: current, with: next, now: now) {
                CircuitMetrics.observe(before: current, after: next, integration: integration.key, now: now)
                var stored = next
                stored.version = current.version + 1
                await cache.put(integration.id, stored, at: now)
                return stored
            }
        }
        throw LatchkeyError(.unavailable, "The circuit of \(integration.key) kept changing; try again.")
    }
}

/// The circuits this instance read or wrote recently, by integration id.
actor CircuitCache {
    private var entries: [String: (state: CircuitState, at: Date)] = [:]

    func get(_ integrationID: String, now: Date, maxAge: TimeInterval) -> CircuitState? {
        guard let entry = entries[integrationID], now.timeIntervalSince(entry.at) < maxAge, entry.at <= now else { return nil }
        return entry.state
    }

    func put(_ integrationID: String, _ state: CircuitState, at: Date) {
        entries[integrationID] = (state, at)
    }
}

/// Prometheus series of the circuits, as this instance sees them change.
enum CircuitMetrics {
    static func observe(before: CircuitState, after: CircuitState, integration: String, now: Date) {
        let opened = after.isOpen(now: now) && (before.openUntil.map { $0 != after.openUntil } ?? true)
        if opened { Counter(label: "latchkey_circuit_opened_total", dimensions: [("integration", integration)]).increment() }
        Gauge(label: "latchkey_circuit_open", dimensions: [("integration", integration)]).record(after.openUntil == nil ? 0 : 1)
    }
}
