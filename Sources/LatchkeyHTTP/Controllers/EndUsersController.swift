import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/end-users`: an app's end users with their connection and credential counts, and deleting one (their
/// credentials revoked at the providers, best effort). An app key sees its own app's; an admin key the console
/// app's, or another app's of the tenant with `?appId=`.
struct EndUsersController {
    let apps: AppService
    let directory: DirectoryRepository
    /// Revokes at the provider (best effort) and deletes.
    let revokeAndDelete: AppService.RevokeAndDelete
    /// What is held about an end user, for `export`.
    let records: PersonRecords
    let clock: any LatchkeyClock

    func addRoutes(to group: RouterGroup<CallerContext>, recorder: RouteRecorder?) {
        group.route(.get, "end-users", recorder: recorder, use: list)
        group.route(.delete, "end-users/:externalUserId", recorder: recorder, use: delete)
        group.route(.get, "end-users/:externalUserId/export", recorder: recorder, use: export)
    }

    /// Everything held about the end user (a data-subject request), secrets excluded; audited as `end_user.export`.
    @Sendable func export(_ request: Request, context: CallerContext) async throws -> Response {
        let external = try Self.externalUserID(context)
        let appID = try await targetApp(request, context: context)
        guard var export = try await records.exportEndUser(appID: appID, externalID: external, tenantID: context.tenantID, now: clock.now) else {
            throw LatchkeyError(.notFound, "This app has no end user with that externalUserId.")
        }
        var targets: Set<String> = []
        for row in [export.profile] + export.credentials { if case .text(let id) = row["id"] { targets.insert(id) } }
        try await records.addAuditEvents(to: &export, tenantID: context.tenantID, actor: nil, targets: targets)
        if case .text(let id) = export.profile["id"] {
            try await apps.recordExport(action: "end_user.export", personID: id, tenantID: context.tenantID, actor: context.actor(for: request))
        }
        return try JSON.response(export)
    }

    @Sendable func list(_ request: Request, context: CallerContext) async throws -> Response {
        let appID = try await targetApp(request, context: context)
        let page = try await apps.endUsers(appID: appID, tenantID: context.tenantID, limit: try request.limit(), cursor: request.query("cursor"))
        return try JSON.response(ListEnvelope(items: page.items.map(EndUserResponse.init), nextCursor: page.nextCursor))
    }

    @Sendable func delete(_ request: Request, context: CallerContext) async throws -> Response {
        let external = try Self.externalUserID(context)
        let appID = try await targetApp(request, context: context)
        try await apps.deleteEndUser(
            appID: appID,
            externalID: external,
            tenantID: context.tenantID,
            actor: context.actor(for: request),
            revokeAndDelete: revokeAndDelete
        )
        return Response(status: .noContent)
    }

    /// The app whose end users are meant: the key's own app; for an admin key `?appId=` or the console app. An app
    /// key naming another app answers not found, and the probe is audited.
    private func targetApp(_ request: Request, context: CallerContext) async throws -> String {
        let asked = try request.queryUUID("appId", what: "app")
        if let app = context.app {
            guard asked == nil || asked == app.id else {
                try await apps.recordDenied(app: app, operation: .tokens, integration: nil, actor: context.actor(for: request))
                throw LatchkeyError.notFound("app")
            }
            return app.id
        }
        if let asked { return try await apps.app(id: asked, tenantID: context.tenantID).id }
        guard let console = try await directory.consoleApp(tenantID: context.tenantID) else { throw LatchkeyError.notFound("tenant") }
        return console.id
    }

    /// `externalUserId` from the path: any 1 to 255 characters (percent-encoded in the URL).
    static func externalUserID(_ context: CallerContext) throws -> String {
        guard let raw = context.parameters.get("externalUserId"), let decoded = raw.removingPercentEncoding, !decoded.isEmpty,
            decoded.unicodeScalars.count <= 255
        else { throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters") }
        return decoded
    }
}

struct EndUserResponse: Encodable {
    struct Counts: Encodable {
        var total: Int
        var active: Int
        var expired: Int
        var needsReauth: Int
    }

    var id: String
    var appId: String
    var externalUserId: String
    var displayName: String?
    var email: String?
    var createdAt: Date
    var connections: Int
    var credentials: Counts

    init(_ summary: EndUserSummary) {
        id = summary.endUser.id
        appId = summary.endUser.appID
        externalUserId = summary.endUser.externalID
        displayName = summary.endUser.displayName
        email = summary.endUser.email
        createdAt = summary.endUser.createdAt
        connections = summary.connections
        credentials = Counts(total: summary.credentials, active: summary.active, expired: summary.expired, needsReauth: summary.needsReauth)
    }
}
