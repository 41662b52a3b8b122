import Foundation
import LatchkeyCore
import Logging
import Metrics

extension KeyRewrapService {
    /// Re-wraps one batch of `column` to `target`, with its own saved cursor (`key_rewrap` row `table.column`).
    /// Returns how many values it worked on (0 when nothing is left to do). A value it cannot read stays where it is,
    /// logged by row id; a data key it is on cannot be retired until it is replaced or removed.
    func runBatch(_ column: SealedColumn, target: Int) async throws -> Int {
        let repository = SealedColumnRepository(database: database)
        let progressStore = keyManager.repository
        let now = clock.now
        var progress = try await progressStore.rewrapProgress(of: column.name)
        if progress == nil || progress!.targetVersion != target {
            let remaining = try await repository.count(column, below: target)
            if remaining == 0 { return 0 }
            progress = RewrapProgress(targetVersion: target, cursor: "", done: 0, total: remaining, startedAt: now, updatedAt: now, finishedAt: nil)
            logger.info("key re-wrap started", metadata: ["column": "\(column.name)", "target_version": "\(target)", "rows": "\(remaining)"])
        }
        guard var progress else { return 0 }
        if progress.finishedAt != nil {
            // The last pass ended with `total - done` values it could not read; more than those were written under an
            // old version since (by a process that had not reloaded yet, or racing a fenced write): go round again.
            if try await repository.count(column, below: target) <= progress.total - progress.done { return 0 }
            progress.cursor = ""
            progress.finishedAt = nil
        }
        let batch = try await repository.batch(column, below: target, after: progress.cursor, limit: configuration.batchSize)
        if batch.isEmpty {
            let remaining = try await repository.count(column, below: target)
            progress.cursor = ""
            progress.total = progress.done + remaining
            progress.finishedAt = now
            progress.updatedAt = now
            let finished = progress
            try await database.write { db in try await progressStore.saveRewrapProgress(finished, of: column.name, on: db) }
            if remaining > 0 {
                logger.error(
                    "key re-wrap finished but left values it cannot read on their old key version",
                    metadata: ["column": "\(column.name)", "target_version": "\(target)", "rows": "\(remaining)"]
                )
            } else {
                logger.info(
                    "key re-wrap finished",
                    metadata: ["column": "\(column.name)", "target_version": "\(target)", "rows": "\(progress.done)"]
                )
            }
            return 0
        }
        var resealed: [(value: SealedValue, payload: Data)] = []
        for value in batch {
            do {
                let plaintext = try keyring.open(value.sealed, context: value.context)
                resealed.append((value, try keyring.seal(plaintext, context: value.context, version: target)))
            } catch {
                logger.error(
                    "key re-wrap cannot read a sealed value; it stays on its key version",
                    metadata: ["column": "\(column.name)", "id": "\(value.id)", "reason": "\(error)"]
                )
            }
        }
        let startCursor = progress.cursor
        let moved = try await database.transaction { db -> Int in
            var moved = 0
            // A value changed since it was read is read again: the cursor stops just before the first such row.
            var cursor = batch.last!.id
            var fenced = false
            for (value, payload) in resealed {
                if try await repository.replace(column, id: value.id, previous: value.sealed, payload: payload, version: target, on: db) {
                    moved += 1
                } else if !fenced {
                    fenced = true
                    cursor = batch.firstIndex { $0.id == value.id }.flatMap { $0 > 0 ? batch[$0 - 1].id : nil } ?? startCursor
                }
            }
            progress.cursor = cursor
            progress.done += moved
            progress.updatedAt = clock.now
            try await progressStore.saveRewrapProgress(progress, of: column.name, on: db)
            return moved
        }
        Counter(label: "latchkey_key_rewrap_rows_total").increment(by: moved)
        logger.debug("key re-wrap batch", metadata: ["column": "\(column.name)", "done": "\(progress.done)", "total": "\(progress.total)"])
        return batch.count
    }
}
