import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `/api/v1/connections/{id}/sync`: which datasets of reference data a Connection keeps for its credentials and how
/// often, with each dataset's health across its credentials' jobs.
struct ConnectionSyncController {
    let directory: DirectoryRepository
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let store: any SyncStore
    let credentials: CredentialRepository
    let audit: AuditLog
    let clock: any LatchkeyClock
    let maxBodySize: Int

    /// The shortest and longest interval a dataset may have.
    static let intervals = 3_600...2_592_000

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "connections/:id/sync", recorder: recorder, use: show)
        group.route(.put, "connections/:id/sync", recorder: recorder, use: put)
        group.route(.post, "connections/:id/sync/run", recorder: recorder, use: run)
    }

    struct Health: Encodable {
        /// Jobs (one per usable credential) by status.
        var jobs: Int
        var ok: Int
        var pending: Int
        var failed: Int
        var paused: Int
        /// Records stored across the credentials.
        var records: Int
        var lastSuccessAt: Date?
        /// The latest error of a job that is failing or paused, when there is one.
        var lastError: String?
        var nextRunAt: Date?
    }

    struct DatasetItem: Encodable {
        var name: String
        var title: String
        var description: String
        var enabled: Bool
        var intervalSeconds: Int
        var incremental: Bool
        var health: Health
    }

    struct SyncResponse: Encodable {
        var connectionId: String
        var integration: String
        /// The share of the Connection's rate budget sync may use in one window.
        var budgetFraction: Double
        var datasets: [DatasetItem]
    }

    struct PutRequest: Decodable, AllowedKeys {
        var datasets: [String: Entry]?
        var budgetFraction: Double?
        static let allowedKeys: Set<String> = ["datasets", "budgetFraction"]

        struct Entry: Decodable {
            var enabled: Bool?
            var intervalSeconds: Int?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case enabled, intervalSeconds
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: AnyKey.self)
                let known = Set(CodingKeys.allCases.map(\.rawValue))
                if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
                    let at = (decoder.codingPath.map(\.stringValue) + [unknown.stringValue]).joined(separator: ".")
                    throw LatchkeyError.invalidField(at, "is not a known field (enabled, intervalSeconds)")
                }
                let keyed = try decoder.container(keyedBy: CodingKeys.self)
                enabled = try keyed.decodeIfPresent(Bool.self, forKey: .enabled)
                intervalSeconds = try keyed.decodeIfPresent(Int.self, forKey: .intervalSeconds)
            }
        }

        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    func target(_ context: AdminContext) async throws -> (Connection, Provider?) {
        let id = try PathID.parse(context, what: "connection")
        guard let connection = try await directory.connection(id: id, tenantID: context.tenantID) else {
            throw LatchkeyError.notFound("connection")
        }
        let integration = try await integrations.integrations.find(id: connection.integrationID, tenantID: context.tenantID)
        return (connection, integration.flatMap { catalog.provider(id: $0.provider) })
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        let (connection, provider) = try await target(context)
        return try JSON.response(try await response(connection, provider))
    }

    @Sendable func put(_ request: Request, context: AdminContext) async throws -> Response {
        let (connection, provider) = try await target(context)
        let body = try await JSON.decode(PutRequest.self, from: request, limit: maxBodySize)
        let offered = Dictionary(uniqueKeysWithValues: (provider?.datasets ?? []).map { ($0.name, $0) })
        let current = Dictionary(uniqueKeysWithValues: try await store.settings(connectionID: connection.id).map { ($0.dataset, $0) })
        var problems: [LatchkeyError.FieldError] = []
        var changed: [SyncSetting] = []
        let now = clock.now
        if let fraction = body.budgetFraction, !SyncBudget.fractions.contains(fraction) {
            problems.append(.init(path: "budgetFraction", message: "must be 0.05 to 0.9 (the share of the Connection's rate budget sync may use)"))
        }
        for (name, entry) in (body.datasets ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard offered[name] != nil else {
                let known = offered.keys.sorted()
                problems.append(
                    .init(
                        path: "datasets.\(Self.shown(name))",
                        message: known.isEmpty
                            ? "is not a dataset: \(connection.integrationKey) has no reference data to sync"
                            : "is not a dataset of \(connection.integrationKey); known: \(known.joined(separator: ", "))"
                    )
                )
                continue
            }
            if let seconds = entry.intervalSeconds, !Self.intervals.contains(seconds) {
                problems.append(.init(path: "datasets.\(name).intervalSeconds", message: "must be 3600 (an hour) to 2592000 (30 days) seconds"))
                continue
            }
            let before = current[name]
            changed.append(
                SyncSetting(
                    dataset: name,
                    enabled: entry.enabled ?? before?.enabled ?? false,
                    intervalSeconds: entry.intervalSeconds ?? before?.intervalSeconds ?? SyncSetting.defaultIntervalSeconds,
                    updatedAt: now
                )
            )
        }
        guard problems.isEmpty else {
            let listed = problems.map { "\($0.path): \($0.message)" }.joined(separator: "; ")
            throw LatchkeyError.invalidRequest("The sync settings are not valid: \(listed).", fields: problems)
        }
        try await store.save(settings: changed, connectionID: connection.id, tenantID: context.tenantID)
        var details: [String: String] = [:]
        for setting in changed { details[setting.dataset] = setting.enabled ? "on every \(setting.intervalSeconds) s" : "off" }
        if let fraction = body.budgetFraction {
            try await store.save(budgetFraction: fraction, connectionID: connection.id, tenantID: context.tenantID, now: now)
            details["budgetFraction"] = "\(fraction)"
        }
        _ = try await audit.append(
            AuditRecord(
                actor: context.actor(for: request),
                action: "connection.sync_set",
                target: connection.id,
                service: connection.integrationKey,
                details: details
            ),
            tenantID: context.tenantID
        )
        return try JSON.response(try await response(connection, provider))
    }

    private func response(_ connection: Connection, _ provider: Provider?) async throws -> SyncResponse {
        let settings = Dictionary(uniqueKeysWithValues: try await store.settings(connectionID: connection.id).map { ($0.dataset, $0) })
        let jobs = Dictionary(grouping: try await store.jobs(connectionID: connection.id), by: \.dataset)
        let items = (provider?.datasets ?? []).map { dataset in
            let setting = settings[dataset.name]
            return DatasetItem(
                name: dataset.name,
                title: dataset.title,
                description: dataset.description,
                enabled: setting?.enabled ?? false,
                intervalSeconds: setting?.intervalSeconds ?? SyncSetting.defaultIntervalSeconds,
                incremental: dataset.incremental != nil,
                health: Self.health(jobs[dataset.name] ?? [])
            )
        }
        return SyncResponse(
            connectionId: connection.id,
            integration: connection.integrationKey,
            budgetFraction: try await store.budgetFraction(connectionID: connection.id) ?? SyncBudget.defaultFraction,
            datasets: items
        )
    }

    /// A dataset name as an error may echo it: one that looks like `provider.name`, else a placeholder.
    static func shown(_ name: String) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        return parts.count == 2 && parts.allSatisfy({ FieldName.safe($0) == $0 }) ? name : FieldName.safe(name)
    }

    static func health(_ jobs: [SyncJob]) -> Health {
        let troubled = jobs.filter { ($0.status == .failed || $0.status == .paused) && $0.lastError != nil }
        return Health(
            jobs: jobs.count,
            ok: jobs.count { $0.status == .ok },
            pending: jobs.count { $0.status == .pending },
            failed: jobs.count { $0.status == .failed },
            paused: jobs.count { $0.status == .paused },
            records: jobs.reduce(0) { $0 + $1.recordCount },
            lastSuccessAt: jobs.compactMap(\.lastSuccessAt).max(),
            lastError: troubled.max { ($0.lastRunAt ?? .distantPast) < ($1.lastRunAt ?? .distantPast) }?.lastError,
            nextRunAt: jobs.filter { $0.status != .paused }.map(\.nextRunAt).min()
        )
    }
}
