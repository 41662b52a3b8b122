import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyGateway
import LatchkeyProviders
import LatchkeyStorage

/// `/api/v1/connections/{id}/usage` and `/api/v1/connections/{id}/rate-limit`: how a Connection's rate budget is
/// used by its end users in the current window (as this instance counts it), and the Connection's own budget in
/// place of the catalog's default.
struct ConnectionUsageController {
    let directory: DirectoryRepository
    let rateLimits: ConnectionRateLimits
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "connections/:id/usage", recorder: recorder, use: usage)
        group.route(.get, "connections/:id/rate-limit", recorder: recorder, use: showLimit)
        group.route(.put, "connections/:id/rate-limit", recorder: recorder, use: putLimit)
        group.route(.delete, "connections/:id/rate-limit", recorder: recorder, use: deleteLimit)
    }

    struct UsageResponse: Encodable {
        struct User: Encodable {
            var externalUserId: String?
            var admitted: Int
            var throttled: Int
            var share: Double
        }
        var connectionId: String
        var integration: String
        var limit: ConnectionRateLimits.Limit
        var budgetInForce: Int
        var used: Int
        var throttled: Int
        var activeUsers: Int
        var nearLimit: Bool
        var providerRemaining: Int?
        var providerResetAt: Date?
        var users: [User]
    }

    struct LimitRequest: Decodable, AllowedKeys {
        var budget: Int
        var windowSeconds: Int
        static let allowedKeys: Set<String> = ["budget", "windowSeconds"]
    }

    private func connection(_ context: AdminContext) async throws -> Connection {
        let id = try PathID.parse(context, what: "connection")
        guard let connection = try await directory.connection(id: id, tenantID: context.tenantID) else {
            throw LatchkeyError.notFound("connection")
        }
        return connection
    }

    @Sendable func usage(_ request: Request, context: AdminContext) async throws -> Response {
        let connection = try await connection(context)
        let limit = try await rateLimits.limit(of: connection)
        let usage = rateLimits.usage(of: connection)
        return try JSON.response(
            UsageResponse(
                connectionId: connection.id,
                integration: connection.integrationKey,
                limit: limit,
                budgetInForce: usage?.budget ?? limit.budget,
                used: usage?.used ?? 0,
                throttled: usage?.throttled ?? 0,
                activeUsers: usage?.activeUsers ?? 0,
                nearLimit: usage?.nearLimit ?? false,
                providerRemaining: usage?.providerRemaining,
                providerResetAt: usage?.providerResetAt,
                users: (usage?.users ?? []).map { .init(externalUserId: $0.endUser, admitted: $0.calls, throttled: $0.throttled, share: $0.share) }
            )
        )
    }

    @Sendable func showLimit(_ request: Request, context: AdminContext) async throws -> Response {
        try JSON.response(try await rateLimits.limit(of: try await connection(context)))
    }

    @Sendable func putLimit(_ request: Request, context: AdminContext) async throws -> Response {
        let connection = try await connection(context)
        let body = try await JSON.decode(LimitRequest.self, from: request, limit: maxBodySize)
        try await rateLimits.set(connection, budget: body.budget, windowSeconds: body.windowSeconds, actor: context.actor(for: request))
        return try JSON.response(try await rateLimits.limit(of: connection))
    }

    @Sendable func deleteLimit(_ request: Request, context: AdminContext) async throws -> Response {
        let connection = try await connection(context)
        try await rateLimits.remove(connection, actor: context.actor(for: request))
        return try JSON.response(try await rateLimits.limit(of: connection))
    }
}
