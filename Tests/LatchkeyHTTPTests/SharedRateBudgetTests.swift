import Foundation
import LatchkeyCore
import LatchkeyGateway
import LatchkeyTesting
import Synchronization
import Testing

/// Three instances share one Connection's budget through slices leased from one store: together they admit no more
/// than the budget per window, close to all of it, with far fewer leases than calls.
@Suite("Shared rate budget")
struct SharedRateBudgetTests {
    /// Counts the leases, the round trips a database store would make.
    final class CountingStore: RateBudgetLeaseStore {
        let inner = InMemoryRateBudgetLeaseStore()
        let leases = Mutex(0)
        let unreachable = Mutex(false)

        func lease(connectionID: String, windowStart: Date, budget: Int, want: Int) async throws -> Int {
            if unreachable.withLock({ $0 }) { throw CancellationError() }
            leases.withLock { $0 += 1 }
            return try await inner.lease(connectionID: connectionID, windowStart: windowStart, budget: budget, want: want)
        }
    }

    struct Instance {
        let limiter: FairRateLimiter
        let slices: RateBudgetSlices
    }

    static let policy = RateLimitPolicy(budget: 300, window: 60)

    static func instances(_ clock: TestClock, _ store: CountingStore) -> [Instance] {
        (0..<3).map { _ in
            Instance(
                limiter: FairRateLimiter(clock: clock) { _ in policy },
                slices: RateBudgetSlices(store: store)
            )
        }
    }

    @Test func threeInstancesAdmitAtMostTheBudgetPerWindowAndWithinTenPercentOfIt() async throws {
        let clock = TestClock()
        let store = CountingStore()
        let instances = Self.instances(clock, store)
        // Instance 0 is busy (three users, 30 calls a second), 1 and 2 light (2 and 1 calls a second).
        let demand: [(instance: Int, users: [String], everySteps: Int)] = [
            (0, ["a", "b", "c"], 1), (1, ["d"], 5), (2, ["e"], 10),
        ]
        let firstWindow = Int(clock.now.timeIntervalSince1970 / 60)
        var admittedPerWindow: [Int: Int] = [:]
        var calls = 0
        for step in 0..<1_800 {  // three minutes in steps of 100 ms
            let window = Int(clock.now.timeIntervalSince1970 / 60) - firstWindow
            for (index, users, every) in demand where step % every == 0 {
                for user in users {
                    calls += 1
                    let decision = await instances[index].limiter.admit(
                        connectionID: "c1",
                        endUser: user,
                        sharing: instances[index].slices
                    )
                    if decision == .admitted { admittedPerWindow[window, default: 0] += 1 }
                }
            }
            if step % 3 == 0 {
                for instance in instances { try await instance.slices.refill(now: clock.now) { _ in Self.policy } }
            }
            clock.advance(by: 0.1)
        }
        #expect(admittedPerWindow.keys.sorted() == [0, 1, 2])
        for window in 0..<3 {
            let admitted = admittedPerWindow[window, default: 0]
            #expect(admitted <= 300, "window \(window)")
            #expect(admitted >= 270, "window \(window): \(admitted)")
        }
        let leases = store.leases.withLock { $0 }
        #expect(leases * 4 < calls)
    }

    @Test func whenTheStoreIsUnreachableEachInstanceStillDecidesLocally() async {
        let clock = TestClock()
        let store = CountingStore()
        let instance = Self.instances(clock, store)[0]
        store.unreachable.withLock { $0 = true }
        let decision = await instance.limiter.admit(connectionID: "c1", endUser: "a", sharing: instance.slices)
        #expect(decision == .admitted)
    }

    @Test func anInstanceThatFindsTheWindowsBudgetAllTakenIsToldWhenItRenews() async throws {
        let clock = TestClock()
        let store = CountingStore()
        let windowStart = Date(timeIntervalSince1970: (clock.now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        _ = try await store.inner.lease(connectionID: "c1", windowStart: windowStart, budget: 300, want: 300)
        clock.advance(by: 20)
        let instance = Self.instances(clock, store)[0]
        let decision = await instance.limiter.admit(connectionID: "c1", endUser: "a", sharing: instance.slices)
        #expect(decision == .throttled(retryAfter: 40, reason: .budgetExhausted))
        #expect(instance.limiter.usage(connectionID: "c1")?.throttled == 1)
        clock.advance(by: 40)
        let renewed = await instance.limiter.admit(connectionID: "c1", endUser: "a", sharing: instance.slices)
        #expect(renewed == .admitted)
    }
}
