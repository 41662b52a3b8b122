public import LatchkeyCore
public import ServiceLifecycle

/// The background task of the gateway's rate limits, one per process: every `interval` of the injected clock it
/// leases ahead the budget slices running low (so calls rarely wait for the shared store) and refreshes the
/// near-limit gauge (``ProviderCallGate/tick(now:)``).
public struct RateBudgetRefillService: Service {
    let gate: ProviderCallGate
    let clock: any LatchkeyClock
    let interval: Duration

    public init(gate: ProviderCallGate, clock: any LatchkeyClock, interval: Duration = .milliseconds(250)) {
        self.gate = gate
        self.clock = clock
        self.interval = interval
    }

    /// Runs until graceful shutdown, which ends it cleanly.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { return }
                await gate.tick(now: clock.now)
            }
        }
    }
}
