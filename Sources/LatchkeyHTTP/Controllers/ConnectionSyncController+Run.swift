import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `POST /api/v1/connections/{id}/sync/run`: an operator's "sync now". The Connection's jobs (of one dataset, or of
/// every dataset turned on; of one credential, or of all) become due at once, the missing ones planned first, and
/// the next pass of the sync service runs them, paced like any run. Jobs in a run now are left to it.
extension ConnectionSyncController {
    struct RunRequest: Decodable, AllowedKeys {
        var dataset: String?
        var credentialId: String?
        static let allowedKeys: Set<String> = ["dataset", "credentialId"]
    }

    struct RunResponse: Encodable {
        var connectionId: String
        var datasets: [String]
        var credentialId: String?
        /// Jobs made due now.
        var due: Int
    }

    @Sendable func run(_ request: Request, context: AdminContext) async throws -> Response {
        let (connection, provider) = try await target(context)
        let body = try await JSON.decodeIfPresent(RunRequest.self, from: request, limit: maxBodySize) ?? RunRequest()
        let offered = (provider?.datasets ?? []).map(\.name)
        let enabled = Set(try await store.settings(connectionID: connection.id).filter(\.enabled).map(\.dataset)).intersection(offered)
        let turnOn = "turn it on with PUT /api/v1/connections/\(connection.id)/sync first"
        let datasets: [String]
        if let name = body.dataset {
            guard offered.contains(name) else {
                throw LatchkeyError.invalidField(
                    "dataset",
                    offered.isEmpty
                        ? "is not a dataset: \(connection.integrationKey) has no reference data to sync"
                        : "'\(Self.shown(name))' is not a dataset of \(connection.integrationKey); known: \(offered.joined(separator: ", "))"
                )
            }
            guard enabled.contains(name) else { throw LatchkeyError.invalidField("dataset", "\(name) is off on this connection; \(turnOn)") }
            datasets = [name]
        } else {
            guard !enabled.isEmpty else {
                throw LatchkeyError.invalidRequest("No dataset is synced on this connection: choose one and \(turnOn).")
            }
            datasets = enabled.sorted()
        }
        var credentialID: String?
        if let raw = body.credentialId {
            guard let uuid = UUID(uuidString: raw) else { throw LatchkeyError.invalidField("credentialId", "must be a credential id (a UUID)") }
            let id = uuid.uuidString.lowercased()
            guard let found = try await credentials.find(id: id, tenantID: context.tenantID)?.credential, found.connectionID == connection.id
            else { throw LatchkeyError.notFound("credential") }
            guard found.status == .active else {
                throw LatchkeyError.invalidField(
                    "credentialId",
                    "cannot be used (\(found.status.rawValue)): its sync waits until the person reconnects"
                )
            }
            credentialID = id
        }
        let due = try await store.runNow(
            connectionID: connection.id,
            tenantID: context.tenantID,
            datasets: datasets,
            credentialID: credentialID,
            now: clock.now
        )
        var details = ["datasets": datasets.joined(separator: ","), "due": "\(due)"]
        if let credentialID { details["credential_id"] = credentialID }
        _ = try await audit.append(
            AuditRecord(
                actor: context.actor(for: request),
                action: "connection.sync_run",
                target: connection.id,
                service: connection.integrationKey,
                details: details
            ),
            tenantID: context.tenantID
        )
        return try JSON.response(
            RunResponse(connectionId: connection.id, datasets: datasets, credentialId: credentialID, due: due),
            status: .accepted
        )
    }
}
