import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage

/// `/api/v1/connections`: the app × integration links, each with its health (DESIGN §2).
struct ConnectionsController {
    let directory: DirectoryRepository
    let vault: CredentialVault
    let integrations: IntegrationStore
    let health: HealthMonitor
    let database: Database
    let sync: any SyncStore
    let catalog: ProviderCatalog
    let clock: any LatchkeyClock
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "connections", recorder: recorder, use: list)
        group.route(.post, "connections", recorder: recorder, use: create)
        group.route(.get, "connections/:id", recorder: recorder, use: show)
    }

    struct ConnectionResponse: Encodable {
        struct Probe: Encodable {
            var result: String
            var reason: String?
            var checkedAt: Date
        }
        var id: String
        var integration: String
        var appId: String
        var createdAt: Date
        var health: String
        var reasons: [String]
        var counts: ConnectionHealth.Counts
        var integrationStatus: IntegrationStatus
        /// Reference-data sync per dataset (on one connection's page only).
        var sync: [ConnectionSyncController.DatasetHealth]?
        var probe: Probe?
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        var items: [ConnectionResponse] = []
        for connection in try await directory.connections(tenantID: context.tenantID) {
            items.append(try await response(connection))
        }
        return try JSON.response(ListEnvelope(items: items, nextCursor: nil))
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "connection")
        let connection = try await vault.connection(id: id, tenantID: context.tenantID, actor: context.actor(for: request))
        var shown = try await response(connection)
        let provider = try await integrations.integrations.find(id: connection.integrationID, tenantID: connection.tenantID)
            .flatMap { catalog.provider(id: $0.provider) }
        shown.sync = try await ConnectionSyncController.summary(connectionID: connection.id, provider: provider, store: sync)
        return try JSON.response(shown)
    }

    struct CreateRequest: Decodable, AllowedKeys {
        var integration: String
        var appId: String?
        static let allowedKeys: Set<String> = ["integration", "appId"]
    }

    /// Creates (or returns) the Connection of the console app (or of the tenant's app `appId`) for an integration.
    @Sendable func create(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(CreateRequest.self, from: request, limit: maxBodySize)
        guard let integration = try await integrations.integrations.find(key: body.integration, tenantID: context.tenantID) else {
            throw LatchkeyError.invalidField("integration", "is not an integration of this tenant")
        }
        let app: App
        if let appId = body.appId {
            guard UUID(uuidString: appId) != nil else { throw LatchkeyError.invalidField("appId", "must be an app id (a UUID)") }
            guard let found = try await AppRepository(database: database).find(id: appId.lowercased(), tenantID: context.tenantID) else {
                throw LatchkeyError.notFound("app")
            }
            app = found
        } else {
            guard let console = try await directory.consoleApp(tenantID: context.tenantID) else { throw LatchkeyError.notFound("tenant") }
            app = console
        }
        let now = clock.now
        let connection = try await database.write { db in
            try await directory.findOrCreateConnection(app: app, integration: integration, now: now, on: db)
        }
        return try JSON.response(try await response(connection), status: .created, headers: [.location: "/api/v1/connections/\(connection.id)"])
    }

    private func response(_ connection: Connection) async throws -> ConnectionResponse {
        let state = try await health.health(of: connection)
        let integration = try await integrations.integrations.find(id: connection.integrationID, tenantID: connection.tenantID)
        var probe: ConnectionResponse.Probe?
        if let latest = await health.probes.latest(integrationID: connection.integrationID) {
            switch latest.result {
            case .healthy: probe = .init(result: "healthy", reason: nil, checkedAt: latest.at)
            case .unauthorized: probe = .init(result: "unauthorized", reason: nil, checkedAt: latest.at)
            case .failing(let reason): probe = .init(result: "failing", reason: reason, checkedAt: latest.at)
            }
        }
        return ConnectionResponse(
            id: connection.id,
            integration: connection.integrationKey,
            appId: connection.appID,
            createdAt: connection.createdAt,
            health: state.state.rawValue,
            reasons: state.reasons,
            counts: state.counts,
            integrationStatus: integration?.status ?? .ok,
            probe: probe
        )
    }
}
