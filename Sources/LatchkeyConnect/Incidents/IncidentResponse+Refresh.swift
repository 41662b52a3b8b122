import LatchkeyCore
import LatchkeyLifecycle
public import LatchkeyStorage
import Logging

extension IncidentResponse {
    /// What a forced refresh of an integration's credentials came to.
    public struct RefreshCounts: Sendable, Equatable, Codable {
        /// A new access token was obtained.
        public var refreshed = 0
        /// The provider could not be reached or answered with an error; the old token is kept.
        public var failed = 0
        /// The provider refused the refresh token (or there is none): the person must reconnect.
        public var needsReauth = 0
        /// Not OAuth tokens (API keys, basic secrets): nothing to refresh.
        public var skipped = 0

        public init() {}
    }

    /// Refreshes every OAuth credential of the integration now, whatever its expiry, one at a time through the
    /// refresh coordinator (single flight per credential and the lease across instances stay). Each refresh is
    /// audited by the refresher; the run as a whole as `incident.refresh` with the counts.
    public func forceRefresh(integration key: String, tenantID: String, actor: AuditActor) async throws -> RefreshCounts {
        var counts = RefreshCounts()
        var cursor = ""
        let vault = connect.vault
        while true {
            let ids = try await jobs.credentialIDs(.integration(key), tenantID: tenantID, after: cursor, limit: batchSize)
            guard let last = ids.last else { break }
            cursor = last
            for id in ids {
                guard let credential = try? await vault.get(id: id, tenantID: tenantID, actor: actor) else { continue }
                guard credential.type == .oauth2 else {
                    counts.skipped += 1
                    continue
                }
                do {
                    let (fresh, _) = try await coordinator.refresh(id: id, tenantID: tenantID, trigger: .forced, leased: false)
                    if fresh.status == .active { counts.refreshed += 1 } else { counts.needsReauth += 1 }
                } catch let error as LatchkeyError where error.code == .needsReauth || error.code == .providerRevoked {
                    counts.needsReauth += 1
                } catch {
                    counts.failed += 1
                    logger.warning("forced refresh failed", metadata: ["credential_id": "\(id)", "reason": "\(error)"])
                }
            }
        }
        _ = try await audit.append(
            AuditRecord(
                actor: actor,
                action: "incident.refresh",
                target: key,
                service: key,
                result: counts.failed == 0 ? .success : .failure,
                details: [
                    "refreshed": String(counts.refreshed), "failed": String(counts.failed), "needs_reauth": String(counts.needsReauth),
                    "skipped": String(counts.skipped),
                ]
            ),
            tenantID: tenantID
        )
        return counts
    }
}
