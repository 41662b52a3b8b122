import Foundation
import Synchronization
import Testing

@testable import LatchkeyStorage

/// The group commit of hot writes: what waits while a batch is written goes out together in the next one, each caller
/// gets its own item's result, and one bad item fails alone.
@Suite("Write batcher")
struct WriteBatcherTests {
    struct Bad: Error {}

    /// Records the batches it writes; the first one waits until `release` is called, so that others queue behind it.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let started = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func write(_ items: [Int]) async throws -> [String] {
            let first = batches.withLock { batches in
                batches.append(items)
                return batches.count == 1
            }
            if first {
                await withCheckedContinuation { continuation in
                    gate.withLock { $0 = continuation }
                    started.withLock { $0?.resume() }
                }
            }
            // A batch holding the bad item (-1) fails, and so does the bad item alone.
            if items.contains(-1) { throw Bad() }
            return items.map { "item \($0)" }
        }

        func release() { gate.withLock { $0?.resume() } }
    }

    @Test func itemsQueuedDuringAWriteGoOutTogetherAndEachCallerGetsItsOwnResult() async throws {
        let recorder = Recorder()
        let batcher = WriteBatcher<Int, String>(maximumBatch: 100) { try await recorder.write($0) }
        await withCheckedContinuation { continuation in
            recorder.started.withLock { $0 = continuation }
            Task { _ = try await batcher.submit(0) }
        }
        // The first batch is being written; these queue.
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for item in 1...20 { group.addTask { (item, try await batcher.submit(item)) } }
            // Let every task queue before the first write ends.
            while batcher.queuedCount < 20 { await Task.yield() }
            recorder.release()
            var results: [Int: String] = [:]
            for try await (item, result) in group { results[item] = result }
            return results
        }
        #expect(results.count == 20 && results.allSatisfy { $0.value == "item \($0.key)" })
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.last?.sorted() == Array(1...20))
    }

    @Test func aBadItemFailsAloneAndTheOthersAreWritten() async throws {
        let recorder = Recorder()
        let batcher = WriteBatcher<Int, String>(maximumBatch: 100) { try await recorder.write($0) }
        await withCheckedContinuation { continuation in
            recorder.started.withLock { $0 = continuation }
            Task { _ = try await batcher.submit(0) }
        }
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for item in [11, 12, -1, 14] {
                group.addTask { (item, (try? await batcher.submit(item)) != nil) }
            }
            while batcher.queuedCount < 4 { await Task.yield() }
            recorder.release()
            var outcomes: [Int: Bool] = [:]
            for await (item, ok) in group { outcomes[item] = ok }
            return outcomes
        }
        #expect(outcomes == [11: true, 12: true, -1: false, 14: true])
        // The failed batch, then each item alone.
        #expect(recorder.batches.withLock { $0 }.dropFirst().map { $0.count }.sorted() == [1, 1, 1, 1, 4])
    }
}
