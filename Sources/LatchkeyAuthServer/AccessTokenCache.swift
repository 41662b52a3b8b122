import Foundation
import Synchronization

/// Verified access tokens kept a few seconds (by their HMAC), and when each grant's last use was recorded. Any
/// revocation in this process empties it, so a revoked token stops working here at once.
final class AccessTokenCache: Sendable {
    struct State {
        var entries: [String: (token: VerifiedAccessToken, at: Date)] = [:]
        var touched: [String: Date] = [:]
    }

    let lifetime: TimeInterval
    private let state = Mutex(State())

    init(lifetime: TimeInterval = 5) {
        self.lifetime = lifetime
    }

    func get(_ hash: String, now: Date) -> VerifiedAccessToken? {
        state.withLock { state in
            guard let entry = state.entries[hash], now.timeIntervalSince(entry.at) < lifetime, entry.token.expiresAt > now else {
                state.entries[hash] = nil
                return nil
            }
            return entry.token
        }
    }

    func put(_ hash: String, _ token: VerifiedAccessToken, now: Date) {
        state.withLock { state in
            if state.entries.count > 10_000 { state.entries.removeAll() }
            state.entries[hash] = (token, now)
        }
    }

    /// Whether the grant's use should be written now (not more than once a minute per grant); marks it when so.
    func shouldTouch(grantID: String, lastUsed: Date?, now: Date) -> Bool {
        state.withLock { state in
            let last = max(state.touched[grantID] ?? .distantPast, lastUsed ?? .distantPast)
            guard now.timeIntervalSince(last) >= 60 else { return false }
            if state.touched.count > 10_000 { state.touched.removeAll() }
            state.touched[grantID] = now
            return true
        }
    }

    func invalidateAll() {
        state.withLock { $0.entries.removeAll() }
    }
}
