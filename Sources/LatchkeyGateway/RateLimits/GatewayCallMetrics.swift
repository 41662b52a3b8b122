import Foundation
import LatchkeyCore
import Metrics

/// `latchkey_gateway_calls_total{provider,tool,outcome}` and `latchkey_gateway_call_duration_seconds{provider,tool,
/// outcome}`: every call through the gateway (a raw proxy call has an empty `tool`). The labels are the integration
/// key, the catalog's tool name and a fixed outcome word: never an end user, a token or a path.
public enum GatewayCallMetrics {
    /// The outcome of an answered call by the provider's status; of a refused or failed one by its error code.
    public static let outcomes = ["ok", "provider_4xx", "provider_5xx"] + LatchkeyError.Code.allCases.map(\.rawValue)

    /// Runs one call and counts it with its latency. `status` reads the provider's status from the result.
    public static func measure<T: Sendable>(
        provider: String,
        tool: String? = nil,
        status: (T) -> Int,
        _ call: () async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await call()
            record(provider: provider, tool: tool, outcome: outcome(status: status(result)), since: start)
            return result
        } catch let error as LatchkeyError {
            record(provider: provider, tool: tool, outcome: error.code.rawValue, since: start)
            throw error
        } catch {
            record(provider: provider, tool: tool, outcome: LatchkeyError.Code.internalError.rawValue, since: start)
            throw error
        }
    }

    static func outcome(status: Int) -> String {
        switch status {
        case 500...: "provider_5xx"
        case 400..<500: "provider_4xx"
        default: "ok"
        }
    }

    static func record(provider: String, tool: String?, outcome: String, since start: ContinuousClock.Instant) {
        let dimensions = [("provider", provider), ("tool", tool ?? ""), ("outcome", outcome)]
        Counter(label: "latchkey_gateway_calls_total", dimensions: dimensions).increment()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Recorder(label: "latchkey_gateway_call_duration_seconds", dimensions: dimensions, aggregate: true).record(seconds)
    }
}
