import Foundation
import Hummingbird
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage

/// `GET /api/v1/users`: the tenant's console users (the people who sign in at `/login`), by email. No password hash
/// or anything derived from one. `GET /api/v1/users/{id}/export` and `DELETE /api/v1/users/{id}`: a data-subject
/// request's export (everything held about the person, secrets excluded) and erasure.
struct UsersController {
    let users: UserRepository
    let apps: AppService
    let records: PersonRecords
    let revokeAndDelete: AppService.RevokeAndDelete
    let clock: any LatchkeyClock

    init(
        users: UserRepository,
        apps: AppService,
        records: PersonRecords,
        revokeAndDelete: @escaping AppService.RevokeAndDelete,
        clock: any LatchkeyClock
    ) {
        self.users = users
        self.apps = apps
        self.records = records
        self.revokeAndDelete = revokeAndDelete
        self.clock = clock
    }

    init(runtime: LatchkeyRuntime, apps: AppService, revokeAndDelete: @escaping AppService.RevokeAndDelete) {
        self.init(
            users: runtime.tenants.users,
            apps: apps,
            records: PersonRecords(database: runtime.database, audit: runtime.audit),
            revokeAndDelete: revokeAndDelete,
            clock: runtime.clock
        )
    }

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "users", recorder: recorder, use: list)
        group.route(.get, "users/:id/export", recorder: recorder, use: export)
        group.route(.delete, "users/:id", recorder: recorder, use: erase)
    }

    @Sendable func export(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "user")
        let export = try await Self.export(userID: id, tenantID: context.tenantID, records: records, now: clock.now)
        try await apps.recordExport(action: "user.export", personID: id, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(export)
    }

    /// The export of a console user, with the audit events by or about them; not found in words.
    static func export(userID: String, tenantID: String, records: PersonRecords, now: Date) async throws -> PersonExport {
        guard var export = try await records.exportUser(id: userID, tenantID: tenantID, now: now) else { throw AppService.noSuchUser }
        var targets: Set<String> = [userID]
        for section in [export.endUsers, export.credentials, export.identities, export.oauthGrants] {
            for row in section { if case .text(let id) = row["id"] { targets.insert(id) } }
        }
        try await records.addAuditEvents(to: &export, tenantID: tenantID, actor: "user:\(userID)", targets: targets)
        return export
    }

    @Sendable func erase(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "user")
        _ = try await apps.eraseUser(userID: id, tenantID: context.tenantID, actor: context.actor(for: request), revokeAndDelete: revokeAndDelete)
        return Response(status: .noContent)
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let all = try await users.list(tenantID: context.tenantID)
        return try JSON.response(ListEnvelope(items: all.map(ConsoleUserResponse.init), nextCursor: nil))
    }
}

/// A console user as the API shows one.
struct ConsoleUserResponse: Encodable {
    var id: String
    var email: String
    var displayName: String
    /// `admin` (tenant administrator), `auditor` (reads everything, changes nothing) or `member`.
    var role: String
    var createdAt: Date

    init(_ user: User) {
        id = user.id
        email = user.email
        displayName = user.displayName
        role = user.role.rawValue
        createdAt = user.createdAt
    }
}
