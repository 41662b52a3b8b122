import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/admin-keys`: the tenant's admin keys (never the keys themselves), and revoking one — at once, on every
/// instance (an incident action; the key making the request may revoke itself).
struct AdminKeysController {
    let tenants: TenantService

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "admin-keys", recorder: recorder, use: list)
        group.route(.post, "admin-keys/:id/revoke", recorder: recorder, use: revoke)
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let items = try await tenants.adminKeys.list(tenantID: context.tenantID).map(AdminKeyResponse.init)
        return try JSON.response(ListEnvelope(items: items, nextCursor: nil))
    }

    @Sendable func revoke(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "admin key")
        guard try await tenants.revokeAdminKey(id: id, tenantID: context.tenantID, actor: context.actor(for: request)) else {
            throw LatchkeyError(.notFound, "No active admin key was found with that id (it may be revoked already).")
        }
        guard let key = try await tenants.adminKeys.list(tenantID: context.tenantID).first(where: { $0.id == id }) else {
            throw LatchkeyError.notFound("admin key")
        }
        return try JSON.response(AdminKeyResponse(key))
    }
}

/// An admin key as the API shows it: its id, name and first characters, never the key.
struct AdminKeyResponse: Encodable {
    var id: String
    var name: String
    var prefix: String
    var createdAt: Date
    var lastUsedAt: Date?
    var revokedAt: Date?
    /// `admin`, or `auditor` for a key that only reads.
    var role: String

    init(_ key: AdminKey) {
        id = key.id
        name = key.name
        prefix = key.prefix
        createdAt = key.createdAt
        lastUsedAt = key.lastUsedAt
        revokedAt = key.revokedAt
        role = key.role.rawValue
    }
}
