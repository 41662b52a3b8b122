import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage

/// What `GET /api/v1/connect/users/{externalUserId}/connections/{connectionId}/data/{dataset}` reads: the catalog
/// (which datasets the Connection's provider has) and the sync store (the records and the job's health).
struct ConnectUserData: Sendable {
    let catalog: ProviderCatalog
    let integrations: IntegrationStore
    let store: any SyncStore
}

extension ConnectUsersController {
    struct SyncHealth: Encodable {
        var status: String
        var lastRunAt: Date?
        var lastSuccessAt: Date?
        var lastError: String?
        var recordCount: Int
        var nextRunAt: Date?
    }

    struct DataItem: Encodable {
        var key: String
        var data: ToolJSON.Encoded
        var updatedAt: Date
    }

    struct DataResponse: Encodable {
        var items: [DataItem]
        var nextCursor: String?
        var dataset: String
        var credentialId: String
        /// The credential's job for the dataset; null when the dataset is not synced for it (yet).
        var sync: SyncHealth?

        enum CodingKeys: String, CodingKey { case items, nextCursor, dataset, credentialId, sync }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .items)
            try container.encode(nextCursor, forKey: .nextCursor)
            try container.encode(dataset, forKey: .dataset)
            try container.encode(credentialId, forKey: .credentialId)
            try container.encode(sync, forKey: .sync)
        }
    }

    /// The person's synced records of one dataset, in key order, `?limit=` (1–200, 50) at a time from `?cursor=`;
    /// `?q=` keeps the records with that text in a field (case-insensitive); `?credentialId=` picks one of the
    /// person's credentials on the Connection (else their default).
    @Sendable func data(_ request: Request, context: AppKeyContext) async throws -> Response {
        let (connection, mine) = try await target(request, context: context)
        try await context.authorize(.proxy, integration: connection.integrationKey, request: request)
        let name = context.parameters.get("dataset") ?? ""
        let integration = try await sync.integrations.integrations.find(id: connection.integrationID, tenantID: context.tenantID)
        guard let found = sync.catalog.dataset(named: name), found.provider.id == integration?.provider else {
            let known = integration.flatMap { sync.catalog.provider(id: $0.provider)?.datasets?.map(\.name) } ?? []
            throw LatchkeyError(
                .notFound,
                known.isEmpty
                    ? "\(connection.integrationKey) has no reference data to sync."
                    : "'\(ConnectionSyncController.shown(name))' is not a dataset of \(connection.integrationKey); known: \(known.joined(separator: ", "))."
            )
        }
        let parameters = request.uri.queryParameters
        var credential = mine.first { $0.isDefault } ?? mine[0]
        if let wanted = parameters["credentialId"].map(String.init) {
            guard let picked = mine.first(where: { $0.id == wanted.lowercased() }) else {
                throw LatchkeyError.invalidField("credentialId", "is not one of this person's credentials on the connection")
            }
            credential = picked
        }
        let limit = try Self.limit(parameters["limit"].map(String.init))
        var after: String?
        if let cursor = parameters["cursor"].map(String.init) {
            guard let key = Self.decodeCursor(cursor).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw LatchkeyError.invalidField("cursor", "is not a cursor this endpoint gave")
            }
            after = key
        }
        let text = parameters["q"].map { String($0).trimmingCharacters(in: .whitespaces).lowercased() }.flatMap { $0.isEmpty ? nil : $0 }
        if let text, text.count > 200 { throw LatchkeyError.invalidField("q", "must be at most 200 characters") }
        var items: [DataItem] = []
        var more = false
        scan: while true {
            let batch = try await sync.store.records(credentialID: credential.id, dataset: found.dataset.name, after: after, limit: 200)
            for record in batch {
                guard let fields = JSONValue.parse(record.payload) else { continue }
                if let text, !Self.contains(fields, text) {
                    after = record.key
                    continue
                }
                if items.count == limit {
                    more = true
                    break scan
                }
                items.append(DataItem(key: record.key, data: ToolJSON.Encoded(fields), updatedAt: record.updatedAt))
                after = record.key
            }
            if batch.count < 200 { break }
        }
        let job = try await sync.store.job(credentialID: credential.id, dataset: found.dataset.name)
        return try JSON.response(
            DataResponse(
                items: items,
                nextCursor: more ? items.last.map { Data($0.key.utf8).base64URLEncodedString() } : nil,
                dataset: found.dataset.name,
                credentialId: credential.id,
                sync: job.map {
                    SyncHealth(
                        status: $0.status.rawValue,
                        lastRunAt: $0.lastRunAt,
                        lastSuccessAt: $0.lastSuccessAt,
                        lastError: $0.lastError,
                        recordCount: $0.recordCount,
                        nextRunAt: $0.status == .paused ? nil : $0.nextRunAt
                    )
                }
            )
        )
    }

    /// The key a cursor names (URL-safe base64 without padding).
    static func decodeCursor(_ cursor: String) -> Data? {
        var text = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text)
    }

    static func limit(_ raw: String?) throws -> Int {
        guard let raw else { return 50 }
        guard let value = Int(raw), (1...200).contains(value) else { throw LatchkeyError.invalidField("limit", "must be 1 to 200") }
        return value
    }

    /// Whether any string or number in `value` contains `text` (lowercased).
    static func contains(_ value: JSONValue, _ text: String) -> Bool {
        switch value {
        case .object(let members): members.values.contains { contains($0, text) }
        case .array(let elements): elements.contains { contains($0, text) }
        case .null: false
        default: value.scalarString?.lowercased().contains(text) ?? false
        }
    }
}
