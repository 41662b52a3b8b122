import Foundation
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Synchronization
import Testing

/// The loop every periodic service runs: a pass at once, then one after each interval of the injected clock; a failed
/// pass is logged and the next one still comes; cancelling the task ends it.
@Suite("Periodic work")
struct PeriodicWorkTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    struct Recorder: LogHandler {
        let sink: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata?["error"].map { "\($0)" } ?? "")") }
        }
    }

    final class Count: Sendable {
        let value = Mutex(0)
        var current: Int { value.withLock { $0 } }
        func next() -> Int {
            value.withLock { count in
                count += 1
                return count
            }
        }
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String { "the pass was refused" }
    }

    /// Yields until `condition` holds (the loop runs on other threads); fails after many tries instead of hanging.
    static func settle(_ condition: () -> Bool) async {
        for _ in 0..<100_000 where !condition() { await Task.yield() }
        #expect(condition())
    }

    @Test func passesComeAtOnceThenEveryIntervalAndAFailureDoesNotStopThem() async {
        let clock = TestClock()
        let sink = Lines()
        let logger = Logger(label: "periodic") { _ in Recorder(sink: sink) }
        let passes = Count()
        let loop = Task {
            await PeriodicWork.run(every: .seconds(60), clock: clock, logger: logger, failure: "the pass failed; will retry") {
                if passes.next() == 2 { throw Refused() }
            }
        }
        await Self.settle { clock.sleeperCount == 1 }
        #expect(passes.current == 1)

        clock.advance(by: 59)
        #expect(passes.current == 1, "not before the interval has passed")
        clock.advance(by: 1)
        await Self.settle { passes.current == 2 && clock.sleeperCount == 1 }
        #expect(sink.all == ["warning the pass failed; will retry the pass was refused"])

        clock.advance(by: 60)
        await Self.settle { passes.current == 3 && clock.sleeperCount == 1 }

        loop.cancel()
        await loop.value
        #expect(clock.sleeperCount == 0)
        #expect(passes.current == 3)
    }

    @Test func aCancellationFromThePassEndsTheLoopWithoutALogLine() async {
        let clock = TestClock()
        let sink = Lines()
        let logger = Logger(label: "periodic") { _ in Recorder(sink: sink) }
        await PeriodicWork.run(every: .seconds(60), clock: clock, logger: logger, failure: "the pass failed") { throw CancellationError() }
        #expect(sink.all.isEmpty)
        #expect(clock.sleeperCount == 0)
    }

    @Test func aPassWhoseErrorsCouldCarryAProvidersWordsLogsOnlyTheirType() async {
        let clock = TestClock()
        let sink = Lines()
        let logger = Logger(label: "periodic") { _ in Recorder(sink: sink) }
        let loop = Task {
            await PeriodicWork.run(
                every: .seconds(60),
                clock: clock,
                logger: logger,
                failure: "pass failed",
                level: .error,
                describe: PeriodicWork.errorType
            ) {
                throw Refused()
            }
        }
        await Self.settle { clock.sleeperCount == 1 }
        loop.cancel()
        await loop.value
        #expect(sink.all.count == 1)
        #expect(sink.all.first?.hasPrefix("error pass failed ") == true)
        #expect(sink.all.first?.contains("Refused") == true)
        #expect(sink.all.first?.contains("the pass was refused") == false)
    }
}
