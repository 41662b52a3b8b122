public import LatchkeyCore

extension IntegrationStore {
    /// The integration `key` of `tenantID` for a call on the gateway path (token hand-outs, proxy and tool calls),
    /// kept a few seconds as admin and app keys are (`KeyCache`): a change through this instance is seen by the next
    /// call (any write of the process makes what was kept unusable), one through another instance within seconds.
    /// Read without waiting on an unreachable database, and while it is unreachable (degraded mode) the one this
    /// process read within the degraded lifetime, as long as no write of this process has ended since.
    public func forCall(key: String, tenantID: String) async throws -> Integration? {
        let generation = database.writeGeneration
        let now = clock.now
        let cacheKey = tenantID + "/" + key
        let integrations = integrations
        if let kept = recentForCalls.value(forHash: cacheKey, now: now), kept.generation == generation { return kept.integration }
        do {
            let found = try await database.readPromptly { db in try await integrations.find(key: key, tenantID: tenantID, on: db) }
            recentForCalls.store(.init(integration: found, generation: generation), hash: cacheKey, now: now)
            return found
        } catch let error as DatabaseUnreachable {
            let lifetime = database.availability.degradedMode.lifetime
            guard lifetime > 0, let kept = recentForCalls.degradedValue(forHash: cacheKey, now: now, maximumAge: lifetime),
                kept.generation == generation
            else { throw error }
            return kept.integration
        }
    }
}

/// An integration as `IntegrationStore.forCall` last read it (nil: there was none), and the write generation then.
struct RecentIntegration: Sendable {
    let integration: Integration?
    let generation: UInt64
}
