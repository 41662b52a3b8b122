public import Foundation
public import LatchkeyProviders
import Synchronization

/// The rate policy of each Connection seen by this instance: its own override when it has one, else its provider's
/// catalog default, else a fallback. Kept in memory and read on every call; an override is read again from its store
/// at most every `overrideTTL` seconds, so a change made on another instance is seen within that time.
public final class RateLimitPolicies: Sendable {
    /// Reads a Connection's own budget (nil: none set), e.g. from the database.
    public typealias Overrides = @Sendable (_ connectionID: String) async throws -> RateLimitDefault?

    private struct Entry {
        var integrationKey: String
        var catalog: RateLimitDefault?
        var override: RateLimitDefault?
        var overrideReadAt: Date?
    }

    let fallback: RateLimitPolicy
    let overrides: Overrides?
    let overrideTTL: TimeInterval
    private let entries = Mutex<[String: Entry]>([:])

    public init(fallback: RateLimitPolicy, overrides: Overrides?, overrideTTL: TimeInterval = 30) {
        self.fallback = fallback
        self.overrides = overrides
        self.overrideTTL = overrideTTL
    }

    /// Remembers `connectionID`'s integration and catalog default, and reads its override when due.
    func note(_ connectionID: String, integrationKey: String, default catalog: RateLimitDefault?, now: Date) async {
        let due = entries.withLock { entries -> Bool in
            var entry = entries[connectionID] ?? Entry(integrationKey: integrationKey)
            entry.integrationKey = integrationKey
            entry.catalog = catalog
            entries[connectionID] = entry
            guard let read = entry.overrideReadAt else { return true }
            return now.timeIntervalSince(read) >= overrideTTL || now < read
        }
        guard due, let overrides else { return }
        let override: RateLimitDefault?
        do {
            override = try await overrides(connectionID)
        } catch {
            // A store that cannot be read keeps the last known override until the next try.
            entries.withLock { $0[connectionID]?.overrideReadAt = now }
            return
        }
        entries.withLock { entries in
            entries[connectionID]?.override = override
            entries[connectionID]?.overrideReadAt = now
        }
    }

    /// Forgets what is known of `connectionID`'s override, so that the next call reads it again (after a change).
    public func invalidate(_ connectionID: String) {
        entries.withLock { $0[connectionID]?.overrideReadAt = nil }
    }

    /// The policy in force for `connectionID`.
    public func policy(_ connectionID: String) -> RateLimitPolicy {
        let chosen = entries.withLock { entries in entries[connectionID].flatMap { $0.override ?? $0.catalog } }
        guard let chosen else { return fallback }
        return RateLimitPolicy(budget: chosen.budget, window: TimeInterval(chosen.windowSeconds))
    }

    func integrationKey(_ connectionID: String) -> String? {
        entries.withLock { $0[connectionID]?.integrationKey }
    }

    func integrationKeys() -> Set<String> {
        entries.withLock { Set($0.values.map(\.integrationKey)) }
    }
}
