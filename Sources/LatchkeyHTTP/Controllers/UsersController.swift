import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `GET /api/v1/users`: the tenant's console users (the people who sign in at `/login`), by email. No password hash
/// or anything derived from one.
struct UsersController {
    let users: UserRepository

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "users", recorder: recorder, use: list)
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
