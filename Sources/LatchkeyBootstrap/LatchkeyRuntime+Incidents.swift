import Foundation
public import LatchkeyConnect
import LatchkeyStorage

extension LatchkeyRuntime {
    /// Incident response over `outbound`, its runs held by the configured lease (`LATCHKEY_INCIDENT_LEASE_SECONDS`).
    public func incidentResponse(outbound: OutboundServices) -> IncidentResponse {
        IncidentResponse(
            connect: outbound.connect,
            coordinator: outbound.coordinator,
            database: database,
            audit: audit,
            clock: clock,
            logger: logger,
            leaseLength: TimeInterval(configuration.incidentLeaseSeconds)
        )
    }
}
