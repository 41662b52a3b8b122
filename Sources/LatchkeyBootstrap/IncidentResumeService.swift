import Foundation
public import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// Resumes incident revocation runs that were cut short (the process crashed or was killed with SIGKILL while a run
/// was under way): at start, and then once per lease of the injected clock, every run left `running` whose lease
/// has lapsed is taken (one process at a time, by its lease) and worked through to the end, after the last
/// credential it deleted. Every instance may run it.
public struct IncidentResumeService: Service {
    let incidents: IncidentResponse
    let logger: Logger

    public init(incidents: IncidentResponse, logger: Logger) {
        self.incidents = incidents
        self.logger = logger
    }

    /// Runs until graceful shutdown, which ends it cleanly (a run it stops is left to be resumed).
    public func run() async throws {
        await PeriodicWork.run(
            every: .seconds(incidents.leaseLength),
            clock: incidents.clock,
            logger: logger,
            failure: "resuming incident revocation runs failed; will retry"
        ) { try await incidents.resumeAllInterrupted() }
    }
}
