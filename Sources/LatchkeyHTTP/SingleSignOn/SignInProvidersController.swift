import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/sign-in/providers`: which integrations sign people in (single sign-on or social), whether they create
/// accounts just in time, and for which email domains.
struct SignInProvidersController {
    let sso: SingleSignOn
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "sign-in/providers", recorder: recorder, use: list)
        group.route(.put, "sign-in/providers/:integrationKey", recorder: recorder, use: put)
        group.route(.delete, "sign-in/providers/:integrationKey", recorder: recorder, use: delete)
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let overview = try await sso.overview(tenantID: context.tenantID)
        return try JSON.response(SignInProvidersResponse(providers: overview.configured, redirectURI: sso.redirectURI))
    }

    @Sendable func put(_ request: Request, context: AdminContext) async throws -> Response {
        let key = context.parameters.get("integrationKey") ?? ""
        let body = try await JSON.decode(PutSignInProviderRequest.self, from: request, limit: maxBodySize)
        let settings = try await sso.save(
            key: key,
            enabled: body.enabled,
            createUsers: body.createUsers ?? false,
            domains: body.allowedDomains ?? [],
            tenantID: context.tenantID,
            actor: context.actor(for: request)
        )
        let candidate = try await sso.candidate(key: settings.integrationKey, tenantID: context.tenantID)
        return try JSON.response(
            SingleSignOn.ProviderView(
                integrationKey: settings.integrationKey,
                name: candidate.name,
                kind: candidate.kind.rawValue,
                enabled: settings.enabled,
                createUsers: settings.createUsers,
                allowedDomains: settings.allowedDomains,
                updatedAt: settings.updatedAt
            )
        )
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        try await sso.remove(key: context.parameters.get("integrationKey") ?? "", tenantID: context.tenantID, actor: context.actor(for: request))
        return Response(status: .noContent)
    }
}

struct PutSignInProviderRequest: Decodable, AllowedKeys {
    var enabled: Bool
    var createUsers: Bool?
    var allowedDomains: [String]?

    static let allowedKeys: Set<String> = ["enabled", "createUsers", "allowedDomains"]
}

struct SignInProvidersResponse: Encodable {
    var providers: [SingleSignOn.ProviderView]
    /// The address to register at every provider as a redirect URI.
    var redirectURI: String
}
