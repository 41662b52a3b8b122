public import LatchkeyCore
public import Logging
import ServiceLifecycle

/// The loop of a background service that does one pass of work every so often on the injected clock: a pass now,
/// then one after each `interval`, until the task is cancelled or the service group shuts down gracefully. A pass
/// that fails is logged (`failure`, with the error as `describe` puts it: by default as ``Database/describe(_:)``
/// does; a pass whose errors could carry a provider's words logs only their type) and the next one comes at its time. Tests call the service's single pass directly instead of running the loop.
public enum PeriodicWork {
    public static func run(
        every interval: Duration,
        clock: any LatchkeyClock,
        logger: Logger,
        failure: Logger.Message,
        level: Logger.Level = .warning,
        describe: @escaping @Sendable (any Error) -> String = { Database.describe($0) },
        _ pass: @escaping @Sendable () async throws -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await pass()
                } catch is CancellationError {
                    return
                } catch {
                    logger.log(level: level, failure, metadata: ["error": "\(describe(error))"])
                }
                do { try await clock.sleep(for: interval) } catch { return }
            }
        }
    }
}

extension PeriodicWork {
    /// Names only the error's type, for passes whose errors could carry what a provider answered.
    public static let errorType: @Sendable (any Error) -> String = { String(reflecting: type(of: $0)) }
}
