import Foundation
import Logging
public import SQLKit
import Synchronization

/// Degraded mode's side of the database (README, "When the database is unreachable"): token-path reads that do not
/// wait on an outage, and the probe that notices its end.
extension Database {
    /// Runs a read of the token path: refused at once (`DatabaseUnreachable`) while the database is known to be down,
    /// and on PostgreSQL given up after `availability.deadline` (then the database counts as down), so that a call
    /// is served from what degraded mode keeps instead of waiting on a connection pool that is retrying.
    public func readPromptly<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard availability.isReachable else { throw DatabaseUnreachable() }
        guard kind == .postgres else { return try await read(body) }
        return try await withDeadline { try await self.read(body) }
    }

    private func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let deadline = availability.deadline
        let answer = try await withThrowingTaskGroup(of: T?.self) { group -> T? in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let answer else {
            becameUnreachable()
            throw DatabaseUnreachable()
        }
        return answer
    }

    /// Asks the database whether it answers (within the deadline); an answer ends an outage.
    @discardableResult
    public func probe() async -> Bool {
        guard !availability.isSimulated else { return false }
        do {
            try await withDeadline { try await self.readConnection { try await $0.raw("SELECT 1 AS ok").run() } }
            if !availability.isReachable {
                availability.markReachable()
                if availability.isReachable { logger.notice("the database answers again; degraded mode ends") }
            }
            return true
        } catch {
            return false
        }
    }

    /// Marks the outage and probes the database until it answers.
    func becameUnreachable() {
        if availability.isReachable { logger.warning("the database is unreachable; degraded mode begins") }
        availability.markUnreachable()
        prober.withLock { prober in
            guard prober == nil else { return }
            prober = Task { [weak self] in
                // At once (a broken connection may be all it was), then every second.
                while !Task.isCancelled {
                    guard let self else { return }
                    if await self.probe() {
                        self.prober.withLock { $0 = nil }
                        return
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Degraded mode's tests: while `on`, every operation fails as if the database were down.
    public func simulateOutage(_ on: Bool) {
        availability.simulate(unreachable: on)
    }
}
