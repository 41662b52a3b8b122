import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Reads `Authorization: Bearer lk_live_…` and sets the admin key on the context. A missing or unknown key
/// leaves it empty (the typed context then answers 401); an app key on an admin route answers 403.
struct AdminKeyAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext
    let tenants: TenantService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw LatchkeyError.unauthorized("The Authorization header must be `Bearer <API key>`.")
            }
            let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
            if token.hasPrefix("lk_app_") {
                throw LatchkeyError.forbidden("App keys (lk_app_…) cannot use tenant admin endpoints; use a tenant admin key (lk_live_…).")
            }
            guard let key = try await tenants.authenticateAdminKey(token) else {
                throw LatchkeyError.unauthorized("The API key is not valid or was revoked.")
            }
            context.adminKey = key
        }
        return try await next(request, context)
    }
}

extension AdminContext {
    /// The audit actor for this request.
    func actor(for request: Request) -> AuditActor {
        AuditActor(id: "admin_key:\(adminKey.id)", ip: remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
