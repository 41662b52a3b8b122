import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// `/api/v1/integrations` and `/api/v1/providers`: which providers a tenant offers, with which OAuth client.
struct IntegrationsController {
    let store: IntegrationStore
    let rules: IntegrationRules
    let catalog: ProviderCatalog
    let callbackURL: String
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "providers", recorder: recorder, use: providers)
        group.route(.post, "integrations", recorder: recorder, use: create)
        group.route(.get, "integrations", recorder: recorder, use: list)
        group.route(.get, "integrations/:key", recorder: recorder, use: show)
        group.route(.patch, "integrations/:key", recorder: recorder, use: update)
        group.route(.delete, "integrations/:key", recorder: recorder, use: delete)
    }

    @Sendable func providers(_ request: Request, context: AdminContext) async throws -> Response {
        var items = catalog.all
        if let mode = try request.query("authMode", oneOf: Provider.AuthMode.allCases) {
            items = items.filter { $0.authMode == mode }
        }
        return try JSON.response(ListEnvelope(items: items.map(ProviderResponse.init), nextCursor: nil))
    }

    @Sendable func create(_ request: Request, context: AdminContext) async throws -> Response {
        let body = try await JSON.decode(CreateIntegrationRequest.self, from: request, limit: maxBodySize)
        let new = try await rules.validated(body.newIntegration())
        let integration = try await store.create(new, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(
            response(integration),
            status: .created,
            headers: [.location: "/api/v1/integrations/\(integration.key)"]
        )
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let items = try await store.integrations.list(tenantID: context.tenantID)
        return try JSON.response(ListEnvelope(items: items.map(response), nextCursor: nil))
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        try JSON.response(response(try await find(context)))
    }

    @Sendable func update(_ request: Request, context: AdminContext) async throws -> Response {
        let integration = try await find(context)
        let body = try await JSON.decode(PatchIntegrationRequest.self, from: request, limit: maxBodySize)
        let changes = try await rules.validated(body.changes, for: integration)
        let updated = try await store.update(key: integration.key, tenantID: context.tenantID, changes: changes, actor: context.actor(for: request))
        return try JSON.response(response(updated))
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        let integration = try await find(context)
        try await store.delete(key: integration.key, tenantID: context.tenantID, actor: context.actor(for: request))
        return Response(status: .noContent)
    }

    private func find(_ context: AdminContext) async throws -> Integration {
        let key = context.parameters.get("key") ?? ""
        guard IntegrationRules.isIntegrationKey(key) || IntegrationRules.isStoredKey(key),
            let integration = try await store.integrations.find(key: key, tenantID: context.tenantID)
        else { throw LatchkeyError.notFound("integration") }
        return integration
    }

    private func response(_ integration: Integration) -> IntegrationResponse {
        IntegrationResponse(integration, provider: catalog.provider(id: integration.provider), callbackURL: callbackURL)
    }
}

/// `POST /api/v1/integrations`.
struct CreateIntegrationRequest: Decodable, AllowedKeys {
    var provider: String
    var key: String?
    var displayName: String?
    var clientId: String?
    var clientSecret: String?
    var scopes: [String]?
    var enabled: Bool?
    var settings: [String: String]?

    static let allowedKeys: Set<String> = ["provider", "key", "displayName", "clientId", "clientSecret", "scopes", "enabled", "settings"]

    func newIntegration() -> IntegrationStore.NewIntegration {
        IntegrationStore.NewIntegration(
            key: (key ?? provider).trimmingCharacters(in: .whitespaces),
            provider: provider.trimmingCharacters(in: .whitespaces),
            displayName: displayName?.trimmingCharacters(in: .whitespaces),
            clientID: clientId?.trimmingCharacters(in: .whitespaces),
            clientSecret: clientSecret,
            scopes: scopes ?? [],
            enabled: enabled ?? true,
            settings: settings ?? [:]
        )
    }
}

/// `PATCH /api/v1/integrations/{key}`: absent fields stay; `null` clears `displayName` and `clientSecret`.
struct PatchIntegrationRequest: Decodable, AllowedKeys {
    var changes = IntegrationStore.Changes()

    static let allowedKeys: Set<String> = ["displayName", "clientId", "clientSecret", "scopes", "enabled", "settings"]
    static let nullableKeys: Set<String> = ["displayName", "clientId", "clientSecret"]

    enum CodingKeys: String, CodingKey { case displayName, clientId, clientSecret, scopes, enabled, settings }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func optional(_ key: CodingKeys) throws -> String?? {
            guard container.contains(key) else { return .none }
            if try container.decodeNil(forKey: key) { return .some(nil) }
            return .some(try container.decode(String.self, forKey: key))
        }
        changes.displayName = try optional(.displayName)
        changes.clientID = try optional(.clientId)
        changes.clientSecret = try optional(.clientSecret)
        changes.scopes = try container.decodeIfPresent([String].self, forKey: .scopes)
        changes.enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
        changes.settings = try container.decodeIfPresent([String: String].self, forKey: .settings)
    }
}

struct IntegrationResponse: Encodable {
    var key: String
    var provider: String
    var displayName: String
    var authMode: String?
    var enabled: Bool
    var clientId: String?
    var hasClientSecret: Bool
    var scopes: [String]
    var effectiveScopes: [String]
    var settings: [String: String]
    var redirectUri: String?
    /// `ok`, or `misconfigured` when the provider refused the OAuth client (fix `clientId`/`clientSecret`).
    var status: IntegrationStatus
    var statusReason: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ integration: Integration, provider: Provider?, callbackURL: String) {
        key = integration.key
        self.provider = integration.provider
        displayName = integration.displayName ?? provider?.displayName ?? integration.key
        authMode = provider?.authMode.rawValue
        enabled = integration.enabled
        clientId = integration.clientID
        hasClientSecret = integration.hasClientSecret
        scopes = integration.scopes
        effectiveScopes = integration.scopes.isEmpty ? provider?.oauth?.defaultScopes ?? [] : integration.scopes
        settings = integration.settings
        redirectUri = provider?.authMode == .oauth2 ? callbackURL : nil
        status = integration.status
        statusReason = integration.statusReason
        createdAt = integration.createdAt
        updatedAt = integration.updatedAt
    }
}

struct ProviderResponse: Encodable {
    struct Scope: Encodable {
        var name: String
        var description: String
        var isDefault: Bool
    }
    struct Setting: Encodable {
        var name: String
        var description: String
        var required: Bool
    }
    var id: String
    var displayName: String
    var categories: [String]
    var authMode: String
    var docsURL: String
    var pkce: Bool?
    var refreshTokens: Bool?
    var scopes: [Scope]
    var settings: [Setting]

    init(_ p: Provider) {
        id = p.id
        displayName = p.displayName
        categories = p.categories
        authMode = p.authMode.rawValue
        docsURL = p.docsURL
        pkce = p.oauth?.pkce
        refreshTokens = p.oauth?.issuesRefreshTokens
        let defaults = Set(p.oauth?.defaultScopes ?? [])
        scopes = (p.oauth?.scopes ?? [:]).sorted { $0.key < $1.key }.map {
            Scope(name: $0.key, description: $0.value, isDefault: defaults.contains($0.key))
        }
        settings = (p.integrationSettings ?? [:]).sorted { $0.key < $1.key }.map {
            Setting(name: $0.key, description: $0.value.description, required: $0.value.required)
        }
    }
}
