public import Hummingbird
public import LatchkeyCore
import LatchkeyStorage

/// The app behind an `lk_app_` key, with the service that records what it is refused.
public struct AppCaller: Sendable {
    public let app: App
    let apps: AppService
}

/// A request made with an app key (`Authorization: Bearer lk_app_…`): the routes an app uses for its own end users
/// (`/api/v1/connect/*`). A tenant admin key gets 403 here: it has no end users of its own to act for.
public struct AppKeyContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let caller: AppCaller
    public let remoteAddress: String?

    public init(context: AppRequestContext) throws {
        if context.adminKey != nil {
            throw LatchkeyError.forbidden(
                "This endpoint is for app keys (lk_app_…): a tenant admin key acts for the console app. Create an app (POST /api/v1/apps) and use its key."
            )
        }
        guard let caller = context.appCaller else { throw LatchkeyError.unauthorized() }
        self.coreContext = context.coreContext
        self.caller = caller
        self.remoteAddress = context.remoteAddress
    }

    public var app: App { caller.app }
    public var tenantID: String { caller.app.tenantID }

    /// The audit actor for this request.
    func actor(for request: Request) -> AuditActor {
        AuditActor(id: "app:\(app.id)", ip: remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }

    /// Refuses (403, audited as `app.access_denied`) an operation or integration the app's key is not allowed.
    func authorize(_ operation: AppPermissions.Operation, integration: String?, request: Request) async throws {
        try await caller.authorize(operation, integration: integration, actor: actor(for: request))
    }
}

/// A request made with either key: an app key acts for its app, a tenant admin key for the tenant's console app.
/// Used where both kinds of caller do the same thing for their own end users (tokens, end users; later tools and proxy).
public struct CallerContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set for an admin key.
    public let adminKey: AdminKey?
    /// Set for an app key.
    public let appCaller: AppCaller?
    public let remoteAddress: String?

    public init(context: AppRequestContext) throws {
        guard context.adminKey != nil || context.appCaller != nil else { throw LatchkeyError.unauthorized() }
        if context.adminKey?.role == .auditor, !Role.reads(context.requestMethod) { throw Role.auditorKeyRefusal }
        self.coreContext = context.coreContext
        self.adminKey = context.adminKey
        self.appCaller = context.appCaller
        self.remoteAddress = context.remoteAddress
    }

    /// The app whose key made the request; nil for an admin key (which acts for the console app).
    public var app: App? { appCaller?.app }

    public var tenantID: String { adminKey?.tenantID ?? appCaller?.app.tenantID ?? "" }

    /// The audit actor for this request.
    func actor(for request: Request) -> AuditActor {
        let id = adminKey.map { "admin_key:\($0.id)" } ?? "app:\(appCaller?.app.id ?? "")"
        return AuditActor(id: id, ip: remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }

    /// Refuses an auditor's key where a call would act at a provider as someone (the proxy), even a `GET`.
    func refuseAuditor() throws {
        if adminKey?.role == .auditor {
            throw LatchkeyError.forbidden(
                "An auditor's key reads what Latchkey holds and changes nothing; it cannot call a provider as a user. Use an administrator's key or an app key."
            )
        }
    }

    /// Refuses (403, audited as `app.access_denied`) an operation or integration an app key is not allowed. An admin
    /// key may do everything.
    func authorize(_ operation: AppPermissions.Operation, integration: String?, request: Request) async throws {
        guard let appCaller else { return }
        try await appCaller.authorize(operation, integration: integration, actor: actor(for: request))
    }
}

extension AppCaller {
    func authorize(_ operation: AppPermissions.Operation, integration: String?, actor: AuditActor) async throws {
        let permissions = app.permissions
        var refusal: String?
        if !permissions.allows(operation) {
            refusal =
                "The key of the app \(app.name) is not allowed to use \(operation.rawValue); an administrator can allow it in the app's permissions."
        } else if let integration, !permissions.allows(integration: integration) {
            refusal =
                "The key of the app \(app.name) is not allowed to use the integration \(integration); an administrator can add it to the app's permissions."
        }
        guard let refusal else { return }
        try await apps.recordDenied(app: app, operation: operation, integration: integration, actor: actor)
        throw LatchkeyError.forbidden(refusal)
    }
}
