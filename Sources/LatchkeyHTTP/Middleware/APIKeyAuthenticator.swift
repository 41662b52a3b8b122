import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Reads `Authorization: Bearer …` on `/api/v1` and puts the caller on the context: a tenant admin key (`lk_live_…`)
/// or an app key (`lk_app_…`). A missing header leaves both empty (the typed contexts then answer 401); an unknown
/// key answers 401; a disabled app's key answers 403 whatever the route.
struct APIKeyAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext
    let tenants: TenantService
    let apps: AppService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestMethod = request.method
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw LatchkeyError.unauthorized("The Authorization header must be `Bearer <API key>`.")
            }
            let token = String(parts[1]).trimmingWhitespace()
            if token.hasPrefix("lk_app_") {
                guard let app = try await apps.authenticate(key: token) else {
                    throw LatchkeyError.unauthorized("The app key is not valid or was replaced by a newer one.")
                }
                guard app.status == .active else {
                    throw LatchkeyError.forbidden(
                        "The app \(app.name) is disabled; an administrator can enable it again (PATCH /api/v1/apps/\(app.id))."
                    )
                }
                context.appCaller = AppCaller(app: app, apps: apps)
            } else {
                guard let key = try await tenants.authenticateAdminKey(token) else {
                    throw LatchkeyError.unauthorized("The API key is not valid or was revoked.")
                }
                context.adminKey = key
            }
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
