/// How a Connection is doing (DESIGN §2): healthy, degraded or unhealthy, with a reason code for anything but
/// healthy.
public struct ConnectionHealth: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, Comparable {
        case healthy, degraded, unhealthy

        public static func < (lhs: State, rhs: State) -> Bool {
            let order: [State] = [.healthy, .degraded, .unhealthy]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    /// Credentials of a Connection by status.
    public struct Counts: Sendable, Equatable, Codable {
        public var active = 0
        public var expired = 0
        public var needsReauth = 0
        /// The shared credential's status, when the Connection has one.
        public var sharedUsable: Bool?

        public init(active: Int = 0, expired: Int = 0, needsReauth: Int = 0, sharedUsable: Bool? = nil) {
            self.active = active
            self.expired = expired
            self.needsReauth = needsReauth
            self.sharedUsable = sharedUsable
        }

        public var total: Int { active + expired + needsReauth }
        public var unusable: Int { expired + needsReauth }
    }

    public var state: State
    /// Why it is not healthy: `shared_credential_unusable`, `most_credentials_unusable`, `some_credentials_unusable`,
    /// `circuit_open`, `provider_probe_failing`, `provider_probe_flaky`.
    public var reasons: [String]
    public var counts: Counts

    public init(state: State, reasons: [String], counts: Counts) {
        self.state = state
        self.reasons = reasons
        self.counts = counts
    }

    /// The health from credential counts, the circuit and the provider probe (nil when not probed).
    public static func evaluate(_ counts: Counts, circuitOpen: Bool = false, probeFailureRate: Double? = nil) -> ConnectionHealth {
        var state = State.healthy
        var reasons: [String] = []
        func raise(_ to: State, _ reason: String) {
            state = max(state, to)
            reasons.append(reason)
        }
        if counts.sharedUsable == false { raise(.unhealthy, "shared_credential_unusable") }
        if counts.total > 0 {
            let share = Double(counts.unusable) / Double(counts.total)
            if share >= 0.5 {
                raise(.unhealthy, "most_credentials_unusable")
            } else if share > 0.1 {
                raise(.degraded, "some_credentials_unusable")
            }
        }
        if circuitOpen { raise(.unhealthy, "circuit_open") }
        if let rate = probeFailureRate {
            if rate >= 0.5 {
                raise(.unhealthy, "provider_probe_failing")
            } else if rate > 0 {
                raise(.degraded, "provider_probe_flaky")
            }
        }
        return ConnectionHealth(state: state, reasons: reasons, counts: counts)
    }
}
