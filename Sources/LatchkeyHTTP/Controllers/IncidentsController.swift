import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/incidents`: revoke every credential of an integration, an app or the tenant (a dry run first, a
/// confirmation phrase to run), follow the run, and force-refresh an integration's credentials (tenant admin key).
struct IncidentsController {
    let incidents: IncidentResponse
    let scopes: IncidentScopes
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.post, "incidents/revoke", recorder: recorder, use: revoke)
        group.route(.get, "incidents/jobs", recorder: recorder, use: list)
        group.route(.get, "incidents/jobs/:id", recorder: recorder, use: show)
        group.route(.post, "incidents/refresh", recorder: recorder, use: refresh)
    }

    @Sendable func revoke(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(RevokeRequest.self, from: request, limit: maxBodySize)
        let scope = try await scopes.scope(body.scope, integration: body.integration, app: body.app, tenantID: context.tenantID)
        if body.dryRun == true {
            let preview = try await incidents.preview(scope, tenantID: context.tenantID)
            return try JSON.response(PreviewResponse(scope: scope, preview: preview))
        }
        try IncidentResponse.confirm(body.confirm, for: scope)
        let job = try await incidents.revoke(scope, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(JobResponse(job), headers: [.location: "/api/v1/incidents/jobs/\(job.id)"])
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let items = try await incidents.jobs.list(tenantID: context.tenantID).map(JobResponse.init)
        return try JSON.response(ListEnvelope(items: items, nextCursor: nil))
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "incident job")
        return try JSON.response(JobResponse(try await incidents.job(id: id, tenantID: context.tenantID, actor: context.actor(for: request))))
    }

    @Sendable func refresh(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(RefreshRequest.self, from: request, limit: maxBodySize)
        let key = try await scopes.integrationKey(body.integration, tenantID: context.tenantID)
        let counts = try await incidents.forceRefresh(integration: key, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(RefreshResponse(integration: key, counts: counts))
    }
}

/// `POST /api/v1/incidents/revoke`.
struct RevokeRequest: Decodable, AllowedKeys {
    var scope: String
    var integration: String?
    var app: String?
    var dryRun: Bool?
    var confirm: String?

    static let allowedKeys: Set<String> = ["scope", "integration", "app", "dryRun", "confirm"]
}

/// `POST /api/v1/incidents/refresh`.
struct RefreshRequest: Decodable, AllowedKeys {
    var integration: String

    static let allowedKeys: Set<String> = ["integration"]
}

/// The dry run's answer: what a revocation would cover, and the phrase that confirms it.
struct PreviewResponse: Encodable {
    struct Count: Encodable {
        var integration: String
        var credentials: Int
    }
    var dryRun = true
    var scope: String
    var integration: String?
    var app: String?
    var total: Int
    var byIntegration: [Count]
    var confirmationPhrase: String

    init(scope: IncidentScope, preview: IncidentResponse.Preview) {
        self.scope = scope.kind
        if case .integration(let key) = scope { integration = key }
        if case .app(let id) = scope { app = id }
        total = preview.total
        byIntegration = preview.byIntegration.map { Count(integration: $0.integration, credentials: $0.credentials) }
        confirmationPhrase = scope.confirmationPhrase
    }
}

/// A revocation run and its counts.
struct JobResponse: Encodable {
    var id: String
    var scope: String
    var integration: String?
    var app: String?
    var status: String
    var total: Int
    var processed: Int
    var revoked: Int
    var notSupported: Int
    var revocationFailed: Int
    var error: String?
    var startedAt: Date
    var finishedAt: Date?

    init(_ job: IncidentJob) {
        id = job.id
        scope = job.scope.kind
        if case .integration(let key) = job.scope { integration = key }
        if case .app(let id) = job.scope { app = id }
        status = job.status.rawValue
        total = job.total
        processed = job.processed
        revoked = job.revoked
        notSupported = job.notSupported
        revocationFailed = job.revocationFailed
        error = job.error
        startedAt = job.startedAt
        finishedAt = job.finishedAt
    }
}

/// A forced refresh's counts.
struct RefreshResponse: Encodable {
    var integration: String
    var refreshed: Int
    var failed: Int
    var needsReauth: Int
    var skipped: Int

    init(integration: String, counts: IncidentResponse.RefreshCounts) {
        self.integration = integration
        refreshed = counts.refreshed
        failed = counts.failed
        needsReauth = counts.needsReauth
        skipped = counts.skipped
    }
}
