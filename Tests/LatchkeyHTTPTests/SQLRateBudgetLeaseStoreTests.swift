import Foundation
import LatchkeyBootstrap
import LatchkeyGateway
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The database lease store (migration 14) never grants more than a window's budget, even to instances leasing at
/// the same time, and starts again with each window.
@Suite("SQL rate budget lease store")
struct SQLRateBudgetLeaseStoreTests {
    @Test(arguments: TestDatabases.kinds)
    func concurrentLeasesNeverGrantMoreThanTheWindowsBudget(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime in
            let stores = (0..<3).map { _ in SQLRateBudgetLeaseStore(database: runtime.database) }
            let window = Date(timeIntervalSince1970: 1_800_000_000)
            let granted = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        try await stores[index % 3].lease(connectionID: "c1", windowStart: window, budget: 100, want: 7)
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(granted.reduce(0, +) == 100)
            #expect(granted.filter { $0 == 7 }.count == 14)
            #expect(granted.filter { $0 != 7 && $0 != 0 } == [2])
            let next = try await stores[0].lease(
                connectionID: "c1",
                windowStart: window.addingTimeInterval(60),
                budget: 100,
                want: 7
            )
            #expect(next == 7)
            let other = try await stores[1].lease(connectionID: "c2", windowStart: window, budget: 5, want: 7)
            #expect(other == 5)
        }
    }
}
