import Foundation
import LatchkeyGateway
import LatchkeyTesting
import Testing

/// One Connection's provider budget is shared fairly among its end users: a heavy user borrows what idle users
/// leave, but cannot starve the light ones, and the budget is never exceeded.
@Suite("Fair rate limiter")
struct FairRateLimiterTests {
    static func limiter(
        _ clock: TestClock,
        budget: Int,
        window: TimeInterval = 60,
        configuration: FairRateLimiterConfiguration = FairRateLimiterConfiguration()
    ) -> FairRateLimiter {
        FairRateLimiter(clock: clock, configuration: configuration) { _ in
            RateLimitPolicy(budget: budget, window: window)
        }
    }

    /// Calls admitted within the window ending at each admission, at most: the budget's check.
    static func mostInAnyWindow(_ times: [Date], window: TimeInterval) -> Int {
        var most = 0
        var start = 0
        for end in times.indices {
            while times[start] <= times[end].addingTimeInterval(-window) { start += 1 }
            most = max(most, end - start + 1)
        }
        return most
    }

    @Test func lightUsersAreAllAdmittedWhileTheHeavyOneIsThrottledAndTheHeavyOneGetsTheIdleShareWhenAlone() {
        let clock = TestClock()
        let limiter = Self.limiter(clock, budget: 100)
        let light = (1...9).map { "light-\($0)" }
        var lightAdmitted = 0
        var lightRefused = 0
        var heavyAdmitted = 0
        var heavyRefused = 0
        var admittedTimes: [Date] = []
        // Five minutes: the heavy user tries five calls a second, each light user one call every 30 seconds.
        for second in 0..<300 {
            for _ in 0..<5 {
                if limiter.admit(connectionID: "c1", endUser: "heavy") == .admitted {
                    heavyAdmitted += 1
                    admittedTimes.append(clock.now)
                } else {
                    heavyRefused += 1
                }
            }
            for (index, user) in light.enumerated() where (second + index * 3) % 30 == 0 {
                if limiter.admit(connectionID: "c1", endUser: user) == .admitted {
                    lightAdmitted += 1
                    admittedTimes.append(clock.now)
                } else {
                    lightRefused += 1
                }
            }
            clock.advance(by: 1)
        }
        #expect(lightRefused == 0)
        #expect(lightAdmitted == 9 * 10)
        #expect(heavyRefused > 0)
        #expect(heavyAdmitted > 0)
        #expect(Self.mostInAnyWindow(admittedTimes, window: 60) <= 100)

        // The light users go quiet; once their calls have left the window the heavy user has the whole budget.
        clock.advance(by: 60)
        var alone = 0
        for _ in 0..<150 where limiter.admit(connectionID: "c1", endUser: "heavy") == .admitted { alone += 1 }
        #expect(alone == 100)
    }

    @Test func theBudgetIsNeverExceededInAnyWindow() {
        let clock = TestClock()
        let limiter = Self.limiter(clock, budget: 50, window: 10)
        var seed: UInt64 = 42
        var admitted: [Date] = []
        for _ in 0..<5_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let user = "user-\((seed >> 33) % 7)"
            if limiter.admit(connectionID: "c1", endUser: user) == .admitted { admitted.append(clock.now) }
            clock.advance(by: Double((seed >> 40) % 100) / 1000)
        }
        #expect(admitted.count > 50)
        #expect(Self.mostInAnyWindow(admitted, window: 10) == 50)
    }

    @Test func retryAfterIsWhenTheCallThatFreesASlotLeavesTheWindow() {
        let clock = TestClock()
        let configuration = FairRateLimiterConfiguration(highWaterFraction: 0.8)
        let limiter = Self.limiter(clock, budget: 10, configuration: configuration)
        for _ in 0..<8 {
            #expect(limiter.admit(connectionID: "c1", endUser: "a") == .admitted)
            clock.advance(by: 1)
        }
        // t = 8: the total is at the high-water mark (8 of 10); b is under their share of 5.
        #expect(limiter.admit(connectionID: "c1", endUser: "b") == .admitted)
        clock.advance(by: 1)
        // t = 9: a is over their share, and waits for their call made at t = 0 to leave the window.
        let overShare = limiter.admit(connectionID: "c1", endUser: "a")
        #expect(overShare == .throttled(retryAfter: 51, reason: .overFairShare))
        #expect(overShare.retryAfterSeconds == 51)
        clock.advance(by: 1)
        // t = 10: b, under their share, is still admitted up to the budget.
        #expect(limiter.admit(connectionID: "c1", endUser: "b") == .admitted)
        clock.advance(by: 0.5)
        // t = 10.5: the budget is used up; the first slot frees when the call made at t = 0 leaves.
        let exhausted = limiter.admit(connectionID: "c1", endUser: "b")
        #expect(exhausted == .throttled(retryAfter: 49.5, reason: .budgetExhausted))
        #expect(exhausted.retryAfterSeconds == 50)
        clock.advance(by: 49.5)
        #expect(limiter.admit(connectionID: "c1", endUser: "b") == .admitted)
        #expect(RateLimitDecision.admitted.retryAfterSeconds == nil)
    }

    @Test func theProvidersHeadersLowerTheBudgetUntilTheirResetAndNeverRaiseIt() {
        let clock = TestClock()
        let limiter = Self.limiter(clock, budget: 100)
        limiter.observeProvider(connectionID: "c1", remaining: 3, resetAt: clock.now.addingTimeInterval(30))
        #expect(limiter.usage(connectionID: "c1")?.budget == 3)
        for _ in 0..<3 { #expect(limiter.admit(connectionID: "c1", endUser: "a") == .admitted) }
        clock.advance(by: 10)
        #expect(limiter.admit(connectionID: "c1", endUser: "b") == .throttled(retryAfter: 20, reason: .providerLimit))
        // After the reset the policy's budget holds again (a, alone with calls in the window, may use all of it).
        clock.advance(by: 20)
        var admitted = 0
        for _ in 0..<200 where limiter.admit(connectionID: "c1", endUser: "a") == .admitted { admitted += 1 }
        #expect(admitted == 97)
        #expect(limiter.usage(connectionID: "c1")?.providerRemaining == nil)

        let small = Self.limiter(clock, budget: 5)
        small.observeProvider(connectionID: "c2", remaining: 1_000, resetAt: clock.now.addingTimeInterval(30))
        var smallAdmitted = 0
        for _ in 0..<20 where small.admit(connectionID: "c2", endUser: "a") == .admitted { smallAdmitted += 1 }
        #expect(smallAdmitted == 5)
    }
}
