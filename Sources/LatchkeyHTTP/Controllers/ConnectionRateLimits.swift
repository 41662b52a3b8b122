import Foundation
import LatchkeyCore
import LatchkeyGateway
import LatchkeyProviders
import LatchkeyStorage

/// A Connection's rate limit as the API and the console show and change it: its own budget, else the catalog's
/// default for its provider, else the server's; and its use in the current window on this instance.
struct ConnectionRateLimits: Sendable {
    let limits: ConnectionRateLimitRepository
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let gate: ProviderCallGate
    let audit: AuditLog
    let clock: any LatchkeyClock

    struct Limit: Encodable {
        /// `connection` (set on the Connection), `catalog` (the provider's default) or `default` (the server's).
        var source: String
        var budget: Int
        var windowSeconds: Int
    }

    func limit(of connection: Connection) async throws -> Limit {
        if let own = try await limits.find(connectionID: connection.id) {
            return Limit(source: "connection", budget: own.budget, windowSeconds: own.windowSeconds)
        }
        let integration = try await integrations.integrations.find(id: connection.integrationID, tenantID: connection.tenantID)
        if let catalog = integration.flatMap({ catalog.provider(id: $0.provider) })?.rateLimit {
            return Limit(source: "catalog", budget: catalog.budget, windowSeconds: catalog.windowSeconds)
        }
        let fallback = ProviderCallGate.fallbackPolicy
        return Limit(source: "default", budget: fallback.budget, windowSeconds: Int(fallback.window))
    }

    /// Checks and stores `connection`'s own budget, audited as `connection.rate_limit_set`; every instance applies it
    /// within 30 s, this one at once.
    func set(_ connection: Connection, budget: Int, windowSeconds: Int, actor: AuditActor) async throws {
        guard (1...1_000_000).contains(budget) else { throw LatchkeyError.invalidField("budget", "must be 1 to 1000000 calls") }
        guard (1...86_400).contains(windowSeconds) else { throw LatchkeyError.invalidField("windowSeconds", "must be 1 to 86400 seconds") }
        let limit = ConnectionRateLimit(budget: budget, windowSeconds: windowSeconds, updatedAt: clock.now)
        let details = ["budget": "\(budget)", "window_seconds": "\(windowSeconds)"]
        try await limits.save(
            connectionID: connection.id,
            limit,
            audited: record("connection.rate_limit_set", connection, actor, details),
            tenantID: connection.tenantID,
            in: audit
        )
        gate.invalidatePolicy(connection.id)
    }

    /// Removes `connection`'s own budget (audited as `connection.rate_limit_removed` when there was one): the
    /// catalog's default applies again.
    func remove(_ connection: Connection, actor: AuditActor) async throws {
        try await limits.delete(
            connectionID: connection.id,
            audited: record("connection.rate_limit_removed", connection, actor, [:]),
            tenantID: connection.tenantID,
            in: audit
        )
        gate.invalidatePolicy(connection.id)
    }

    private func record(_ action: String, _ connection: Connection, _ actor: AuditActor, _ details: [String: String]) -> AuditRecord {
        AuditRecord(actor: actor, action: action, target: connection.id, service: connection.integrationKey, details: details)
    }

    /// The use of `connection`'s budget in the current window, as this instance counts it; nil before its first call.
    func usage(of connection: Connection) -> RateLimitUsage? {
        gate.limiter.usage(connectionID: connection.id, now: clock.now)
    }
}
