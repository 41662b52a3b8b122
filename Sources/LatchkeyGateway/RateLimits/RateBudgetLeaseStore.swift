public import Foundation
public import LatchkeyCore
import Synchronization

/// The lease store of a single process, and of the tests that run several limiters against one store.
public final class InMemoryRateBudgetLeaseStore: RateBudgetLeaseStore {
    private struct Key: Hashable {
        let connectionID: String
        let windowStart: Date
    }

    private let granted = Mutex<[Key: Int]>([:])

    public init() {}

    public func lease(connectionID: String, windowStart: Date, budget: Int, want: Int) async throws -> Int {
        granted.withLock { granted in
            // Past windows are forgotten as new ones are leased.
            granted = granted.filter { $0.key.connectionID != connectionID || $0.key.windowStart >= windowStart }
            let key = Key(connectionID: connectionID, windowStart: windowStart)
            let taken = granted[key, default: 0]
            let grant = min(max(0, want), max(0, budget - taken))
            granted[key] = taken + grant
            return grant
        }
    }

    /// Calls granted so far for the window starting at `windowStart`, all instances together.
    public func granted(connectionID: String, windowStart: Date) -> Int {
        granted.withLock { $0[Key(connectionID: connectionID, windowStart: windowStart)] ?? 0 }
    }
}
