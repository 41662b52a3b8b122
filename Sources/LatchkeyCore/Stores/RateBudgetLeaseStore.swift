public import Foundation

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
