public import Foundation
import Synchronization

/// Where the instances of one deployment take their slices of a Connection's rate budget, so that together they
/// admit no more than the budget without a database round trip on each call.
///
/// The budget is counted per fixed window aligned on the Unix epoch (`windowStart` is a multiple of the window's
/// length), so every instance names the same window. An instance leases a slice (a few calls) in one statement,
/// admits calls locally from it, and leases again a few hundred milliseconds later when it runs low
/// (`RateBudgetSlices`). The store never grants more than the budget for one window in total; slices left unspent
/// when the window ends are lost, which bounds the shortfall to a slice per instance.
///
/// `SQLRateBudgetLeaseStore` leases in one statement on the shared database; `InMemoryRateBudgetLeaseStore` serves a
/// single process and the tests.
public protocol RateBudgetLeaseStore: Sendable {
    /// Grants up to `want` calls of `connectionID`'s `budget` for the window starting at `windowStart`, never more
    /// than what the instances have not yet taken of it; answers the number granted (0 when it is all taken).
    func lease(connectionID: String, windowStart: Date, budget: Int, want: Int) async throws -> Int
}

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
