import Foundation
import LatchkeyStorage
import Synchronization

/// Registered clients kept a few seconds by id, so that a busy token endpoint does not read the same client row on
/// every request, and when each client's last use was recorded. Deleting or purging clients in this process empties
/// it; another instance sees a deleted client gone within `lifetime` (its grants and tokens are revoked at once, in
/// the database, either way).
final class ClientCache: Sendable {
    private struct State {
        var entries: [String: (client: OAuthClientRecord, at: Date)] = [:]
        var touched: [String: Date] = [:]
    }

    let lifetime: TimeInterval
    private let state = Mutex(State())

    init(lifetime: TimeInterval = 5) {
        self.lifetime = lifetime
    }

    func get(_ id: String, now: Date) -> OAuthClientRecord? {
        state.withLock { state in
            guard let entry = state.entries[id] else { return nil }
            guard now.timeIntervalSince(entry.at) < lifetime, now >= entry.at else {
                state.entries[id] = nil
                return nil
            }
            return entry.client
        }
    }

    func put(_ client: OAuthClientRecord, now: Date) {
        state.withLock { state in
            if state.entries.count > 10_000 { state.entries.removeAll() }
            state.entries[client.id] = (client, now)
        }
    }

    /// Whether the client's use should be written now (not more than once a minute per client); marks it when so.
    func shouldTouch(_ client: OAuthClientRecord, now: Date) -> Bool {
        state.withLock { state in
            let last = max(state.touched[client.id] ?? .distantPast, client.lastUsedAt ?? .distantPast)
            guard now.timeIntervalSince(last) >= 60 else { return false }
            if state.touched.count > 10_000 { state.touched.removeAll() }
            state.touched[client.id] = now
            return true
        }
    }

    func invalidateAll() {
        state.withLock { $0.entries.removeAll() }
    }
}
