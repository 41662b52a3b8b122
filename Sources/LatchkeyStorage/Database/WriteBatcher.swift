import Foundation
import Synchronization

/// Group commit for one kind of hot write: concurrent callers queue an item and wait; one drain at a time hands up
/// to `maximumBatch` queued items to `write`, which writes them together (typically one transaction of a few
/// statements) and returns each item's result, in order. A caller returns once its item is committed.
///
/// A batch that fails is written again item by item, so that one bad item cannot fail the others; an unreachable
/// database fails the whole batch at once (each caller sees `DatabaseUnreachable`).
final class WriteBatcher<Item: Sendable, Output: Sendable>: Sendable {
    typealias Write = @Sendable ([Item]) async throws -> [Output]

    private struct Waiting {
        let item: Item
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct Queue: ~Copyable {
        var pending: [Waiting] = []
        var draining = false
    }

    private let maximumBatch: Int
    private let write: Write
    private let queue = Mutex(Queue())

    init(maximumBatch: Int = 200, write: @escaping Write) {
        precondition(maximumBatch > 0)
        self.maximumBatch = maximumBatch
        self.write = write
    }

    /// Items waiting for the next batch.
    var queuedCount: Int { queue.withLock { $0.pending.count } }

    /// Writes `item` with whatever else is queued, and returns its result.
    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            let start = queue.withLock { queue -> Bool in
                queue.pending.append(Waiting(item: item, continuation: continuation))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = queue.withLock { queue -> [Waiting] in
                let batch = Array(queue.pending.prefix(maximumBatch))
                queue.pending.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let outputs = try await write(batch.map(\.item))
                guard outputs.count == batch.count else { throw BatchMismatch() }
                for (waiting, output) in zip(batch, outputs) { waiting.continuation.resume(returning: output) }
            } catch let error as DatabaseUnreachable {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            } catch {
                guard batch.count > 1 else {
                    batch[0].continuation.resume(throwing: error)
                    continue
                }
                for waiting in batch {
                    do {
                        let outputs = try await write([waiting.item])
                        guard let output = outputs.first, outputs.count == 1 else { throw BatchMismatch() }
                        waiting.continuation.resume(returning: output)
                    } catch {
                        waiting.continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// `write` returned a different number of results than it was given items: a programming error, reported to
    /// each caller rather than trapping.
    struct BatchMismatch: Error {}
}
