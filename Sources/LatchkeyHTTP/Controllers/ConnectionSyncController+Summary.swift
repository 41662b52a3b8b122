import LatchkeyCore
import LatchkeyProviders

extension ConnectionSyncController {
    /// One dataset of a Connection in its health: the setting and how the credentials' jobs are doing.
    struct DatasetHealth: Encodable {
        var dataset: String
        var title: String
        var enabled: Bool
        var intervalSeconds: Int
        var health: Health
    }

    /// The datasets of `connectionID` that are on or have jobs, in catalog order (those the catalog no longer lists
    /// after them): the `sync` of `GET /api/v1/connections/{id}` and the console's connection page.
    static func summary(connectionID: String, provider: Provider?, store: any SyncStore) async throws -> [DatasetHealth] {
        let settings = Dictionary(uniqueKeysWithValues: try await store.settings(connectionID: connectionID).map { ($0.dataset, $0) })
        let jobs = Dictionary(grouping: try await store.jobs(connectionID: connectionID), by: \.dataset)
        let offered = provider?.datasets ?? []
        let names = offered.map(\.name) + Set(settings.keys).union(jobs.keys).subtracting(offered.map(\.name)).sorted()
        return names.compactMap { name in
            let setting = settings[name]
            let own = jobs[name] ?? []
            guard setting?.enabled == true || !own.isEmpty else { return nil }
            return DatasetHealth(
                dataset: name,
                title: offered.first { $0.name == name }?.title ?? name,
                enabled: setting?.enabled ?? false,
                intervalSeconds: setting?.intervalSeconds ?? SyncSetting.defaultIntervalSeconds,
                health: health(own)
            )
        }
    }
}
