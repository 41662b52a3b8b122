import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/apps`: apps of the tenant, their keys and their own OAuth clients (tenant admin key).
struct AppsController {
    let apps: AppService
    let maxBodySize: Int
    /// Revokes at the provider (best effort) and deletes.
    let revokeAndDelete: AppService.RevokeAndDelete

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.post, "apps", recorder: recorder, use: create)
        group.route(.get, "apps", recorder: recorder, use: list)
        group.route(.get, "apps/:id", recorder: recorder, use: show)
        group.route(.patch, "apps/:id", recorder: recorder, use: update)
        group.route(.delete, "apps/:id", recorder: recorder, use: delete)
        group.route(.post, "apps/:id/api-key/regenerate", recorder: recorder, use: regenerate)
        group.route(.get, "apps/:id/integrations/:key/config", recorder: recorder, use: showConfig)
        group.route(.put, "apps/:id/integrations/:key/config", recorder: recorder, use: putConfig)
        group.route(.delete, "apps/:id/integrations/:key/config", recorder: recorder, use: deleteConfig)
    }

    @Sendable func create(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(CreateAppRequest.self, from: request, limit: maxBodySize)
        let new = AppService.NewApp(
            name: try AppValidation.name(body.name),
            description: try body.description.map(AppValidation.description),
            branding: try body.branding?.validated() ?? AppBranding(),
            allowedRedirectOrigins: try AppValidation.origins(body.allowedRedirectOrigins ?? []),
            permissions: try body.permissions?.validated() ?? .all
        )
        let (app, key) = try await apps.create(new, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(AppResponse(app, apiKey: key), status: .created, headers: [.location: "/api/v1/apps/\(app.id)"])
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let items = try await apps.list(tenantID: context.tenantID).map { AppResponse($0) }
        return try JSON.response(ListEnvelope(items: items, nextCursor: nil))
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        try JSON.response(AppResponse(try await app(context)))
    }

    @Sendable func update(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "app")
        let body = try await JSON.decode(PatchAppRequest.self, from: request, limit: maxBodySize)
        var changes = AppService.Changes()
        changes.name = try body.name.map(AppValidation.name)
        if let description = body.description { changes.description = .some(try description.map(AppValidation.description)) }
        if let status = body.status {
            guard let parsed = AppStatus(rawValue: status) else { throw LatchkeyError.invalidField("status", "must be active or disabled") }
            changes.status = parsed
        }
        changes.branding = try body.branding?.validated()
        changes.allowedRedirectOrigins = try body.allowedRedirectOrigins.map(AppValidation.origins)
        changes.permissions = try body.permissions?.validated()
        let app = try await apps.update(id: id, tenantID: context.tenantID, changes: changes, actor: context.actor(for: request))
        return try JSON.response(AppResponse(app))
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "app")
        try await apps.delete(id: id, tenantID: context.tenantID, actor: context.actor(for: request), revokeAndDelete: revokeAndDelete)
        return Response(status: .noContent)
    }

    @Sendable func regenerate(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "app")
        let (app, key) = try await apps.regenerateKey(id: id, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(AppResponse(app, apiKey: key))
    }

    @Sendable func showConfig(_ request: Request, context: AdminContext) async throws -> Response {
        let (id, key) = try Self.configPath(context)
        return try JSON.response(AppConfigResponse(try await apps.config(appID: id, integrationKey: key, tenantID: context.tenantID)))
    }

    @Sendable func putConfig(_ request: Request, context: AdminContext) async throws -> Response {
        let (id, key) = try Self.configPath(context)
        let body = try await JSON.decode(PutAppConfigRequest.self, from: request, limit: maxBodySize)
        let clientID = body.clientId
        guard !clientID.isEmpty, clientID.count <= 512, !clientID.contains(where: \.isNewline) else {
            throw LatchkeyError.invalidField("clientId", "must be one line of 1 to 512 characters")
        }
        if case .some(.some(let secret)) = body.clientSecret, secret.isEmpty || secret.count > 4096 || secret.contains(where: \.isNewline) {
            throw LatchkeyError.invalidField("clientSecret", "must be one line of 1 to 4096 characters (null removes the stored one)")
        }
        let scopes = body.scopes ?? []
        guard scopes.count <= 100, scopes.allSatisfy({ !$0.isEmpty && $0.count <= 256 && !$0.contains(where: { $0.isWhitespace }) }) else {
            throw LatchkeyError.invalidField("scopes", "must be at most 100 scopes, each 1 to 256 characters without spaces")
        }
        let (config, created) = try await apps.putConfig(
            appID: id,
            integrationKey: key,
            tenantID: context.tenantID,
            clientID: clientID,
            clientSecret: body.clientSecret,
            scopes: scopes,
            actor: context.actor(for: request)
        )
        return try JSON.response(AppConfigResponse(config), status: created ? .created : .ok)
    }

    @Sendable func deleteConfig(_ request: Request, context: AdminContext) async throws -> Response {
        let (id, key) = try Self.configPath(context)
        try await apps.deleteConfig(appID: id, integrationKey: key, tenantID: context.tenantID, actor: context.actor(for: request))
        return Response(status: .noContent)
    }

    private func app(_ context: AdminContext) async throws -> App {
        try await apps.app(id: try PathID.parse(context, what: "app"), tenantID: context.tenantID)
    }

    static func configPath(_ context: AdminContext) throws -> (String, String) {
        let id = try PathID.parse(context, what: "app")
        guard let key = context.parameters.get("key"), IntegrationRules.isStoredKey(key) else {
            throw LatchkeyError.invalidField("key", "must be an integration key")
        }
        return (id, key)
    }
}
