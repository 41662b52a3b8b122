import Foundation
import LatchkeyCore
import LatchkeyTesting
import Testing

@Suite("Test clock")
struct TestClockTests {
    @Test func sleepersWakeOnlyWhenTimeIsAdvancedPastTheirDeadline() async throws {
        let clock = TestClock()
        let start = clock.now
        let task = Task {
            try await clock.sleep(for: .seconds(10))
            return clock.now
        }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: 5)
        #expect(clock.sleeperCount == 1)
        clock.advance(by: 5)
        let woke = try await task.value
        #expect(woke.timeIntervalSince(start) == 10)
    }
}
