import Foundation
import LatchkeyGateway
import LatchkeyTesting
import Testing

/// What the limiter shows of a Connection's use, how little memory it holds, and that it holds under contention.
@Suite("Fair rate limiter usage and bounds")
struct FairRateLimiterUsageTests {
    @Test func usageShowsEachUsersCallsShareAndThrottlesAndTheNearLimitFlag() throws {
        let clock = TestClock()
        let limiter = FairRateLimiterTests.limiter(clock, budget: 10)
        #expect(limiter.usage(connectionID: "c1") == nil)
        for _ in 0..<6 { _ = limiter.admit(connectionID: "c1", endUser: "a") }
        for _ in 0..<2 { _ = limiter.admit(connectionID: "c1", endUser: "b") }
        var usage = try #require(limiter.usage(connectionID: "c1"))
        #expect(usage.used == 8)
        #expect(usage.nearLimit == false)
        #expect(usage.activeUsers == 2)
        #expect(usage.users.map(\.endUser) == ["a", "b"])
        #expect(usage.users.map(\.calls) == [6, 2])
        #expect(usage.users.map(\.share) == [5, 5])

        // a is over their share at the high-water mark: refused, and counted.
        #expect(limiter.admit(connectionID: "c1", endUser: "a") != .admitted)
        #expect(limiter.admit(connectionID: "c1", endUser: "b") == .admitted)
        usage = try #require(limiter.usage(connectionID: "c1"))
        #expect(usage.used == 9)
        #expect(usage.nearLimit)
        #expect(usage.throttled == 1)
        #expect(usage.users.first { $0.endUser == "a" }?.throttled == 1)
        #expect(limiter.usages().map(\.connectionID) == ["c1"])

        clock.advance(by: 60)
        usage = try #require(limiter.usage(connectionID: "c1"))
        #expect(usage.used == 0)
        #expect(usage.nearLimit == false)
    }

    @Test func endUsersBeyondTheCapShareOneEntryAndIdleConnectionsAreForgotten() throws {
        let clock = TestClock()
        let configuration = FairRateLimiterConfiguration(maxUsersPerConnection: 3)
        let limiter = FairRateLimiterTests.limiter(clock, budget: 1_000, configuration: configuration)
        for index in 0..<50 { _ = limiter.admit(connectionID: "c1", endUser: "user-\(index)") }
        for index in 0..<20 { _ = limiter.admit(connectionID: "c-\(index)", endUser: "someone") }
        #expect(limiter.trackedCounts.users == 4 + 20)
        let usage = try #require(limiter.usage(connectionID: "c1"))
        #expect(usage.used == 50)
        #expect(usage.users.first { $0.endUser == nil }?.calls == 47)
        #expect(usage.users.filter { $0.endUser != nil }.map(\.calls) == [1, 1, 1])

        // A window later every call has left: the next call forgets the idle Connections and users on its own.
        clock.advance(by: 61)
        _ = limiter.admit(connectionID: "c1", endUser: "late")
        #expect(limiter.trackedCounts.connections == 1)
        #expect(limiter.trackedCounts.users == 1)
        clock.advance(by: 61)
        limiter.sweep()
        #expect(limiter.trackedCounts.connections == 0)
    }

    @Test func manyTasksAdmittingAtOnceNeverExceedTheBudget() async {
        let clock = TestClock()
        let limiter = FairRateLimiterTests.limiter(clock, budget: 100)
        let admitted = await withTaskGroup(of: Int.self) { group in
            for task in 0..<40 {
                group.addTask {
                    var admitted = 0
                    for _ in 0..<25 where limiter.admit(connectionID: "c1", endUser: "user-\(task % 8)") == .admitted {
                        admitted += 1
                    }
                    return admitted
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 100)
        #expect(limiter.usage(connectionID: "c1")?.used == 100)
    }
}
