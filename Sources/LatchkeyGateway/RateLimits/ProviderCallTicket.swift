import Foundation
import LatchkeyCore
import LatchkeyLifecycle
public import LatchkeyOAuthClient
import LatchkeyProviders

/// One admitted call (``ProviderCallGate/admit(credential:integration:provider:endUser:name:)``): reports what the
/// provider answered, or that it could not be reached, to the rate limiter and the circuit.
public struct ProviderCallTicket: Sendable {
    let gate: ProviderCallGate
    let connectionID: String
    let integration: Integration
    let rateLimitHeaders: RateLimitHeaders?
    let name: String
    /// The circuit counted failures or was open before this call: a good answer clears it.
    var circuitDirty = false

    /// The wait given when a provider answers 429 without saying how long.
    static let defaultRetryAfter = 30

    /// Learns from the provider's answer: its rate-limit headers lower the Connection's budget until their reset;
    /// a 5xx counts as a failure of the provider in the shared circuit. A 429 is thrown as `rate_limited` with the
    /// provider's `Retry-After`.
    public func observe(_ response: OutboundResponse) async throws {
        try await observe(status: response.status, headers: response.headers)
    }

    /// ``observe(_:)`` from the status and headers of an answer whose body is still streaming.
    public func observe(status: Int, headers: [(name: String, value: String)]) async throws {
        let now = gate.clock.now
        if (500...599).contains(status) {
            await gate.record(.failed, for: integration)
        } else if circuitDirty {
            await gate.record(.answered, for: integration)
        }
        let signal = ProviderRateLimitSignal.read(headers, names: rateLimitHeaders, now: now)
        if let signal, let remaining = signal.remaining {
            let window = gate.policy(connectionID).window
            let resetAt = signal.resetAt ?? signal.retryAfter.map { now.addingTimeInterval($0) } ?? now.addingTimeInterval(window)
            gate.limiter.observeProvider(connectionID: connectionID, remaining: remaining, resetAt: resetAt, now: now)
        }
        guard status == 429 else { return }
        let wait = signal?.waitSeconds(now: now).map { max(1, Int($0.rounded(.up))) } ?? Self.defaultRetryAfter
        throw LatchkeyError(
            .rateLimited,
            "\(name) refused the call because its rate limit was reached. Try again in \(wait) seconds.",
            action: .init(type: "retry"),
            retryAfter: wait
        )
    }

    /// Counts a provider that could not be reached or did not answer in time into the shared circuit (refusals of
    /// the outbound policy say nothing about the provider).
    public func failed(_ error: OutboundError) async {
        switch error {
        case .unreachable, .timedOut: await gate.record(.failed, for: integration)
        case .responseTooLarge, .blockedAddress, .unsupportedURL: break
        }
    }
}
