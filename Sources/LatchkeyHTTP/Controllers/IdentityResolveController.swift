import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `POST /api/v1/identities/resolve` (an app key): who one of the app's users is. A chat bot sends the account it
/// knows (`{provider: "slack", subject: "T1/U2", displayName?}`) and gets the person who linked it, or
/// `link_required` with a fresh code and the `/link` address to send the user to.
struct IdentityResolveController {
    let identities: AppIdentities
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AppKeyContext>, recorder: RouteRecorder?) {
        group.route(.post, "identities/resolve", recorder: recorder, use: resolve)
    }

    struct ResolveRequest: Decodable, AllowedKeys {
        var provider: String?
        var subject: String?
        var displayName: String?

        static let allowedKeys: Set<String> = ["provider", "subject", "displayName"]
    }

    /// `{user: {id, email, displayName}, identity: {id, provider, subject, displayName, linkedAt, lastUsedAt}}`.
    struct ResolveResponse: Encodable {
        struct Person: Encodable {
            var id: String
            var email: String
            var displayName: String
        }
        struct LinkedIdentity: Encodable {
            var id: String
            var provider: String
            var subject: String
            var displayName: String?
            var linkedAt: Date
            var lastUsedAt: Date?
        }
        var user: Person
        var identity: LinkedIdentity
    }

    @Sendable func resolve(_ request: Request, context: AppKeyContext) async throws -> Response {
        let body = try await JSON.decode(ResolveRequest.self, from: request, limit: maxBodySize)
        let claim = try AppIdentityClaim.checked(
            provider: body.provider,
            subject: body.subject,
            displayName: body.displayName,
            names: ("provider", "subject", "displayName")
        )
        let actor = context.actor(for: request)
        switch try await identities.resolve(claim, app: context.app, actor: actor) {
        case .linkRequired(let required):
            return try AppIdentities.response(required, requestID: context.id)
        case .linked(let identity, let user):
            try await identities.audit.append(
                AuditRecord(
                    actor: actor,
                    action: "identity.resolve",
                    target: user.id,
                    details: ["provider": identity.provider, "subject": identity.subject, "identity": identity.id],
                    person: user.id
                ),
                tenantID: context.tenantID
            )
            return try JSON.response(
                ResolveResponse(
                    user: .init(id: user.id, email: user.email, displayName: user.displayName),
                    identity: .init(
                        id: identity.id,
                        provider: identity.provider,
                        subject: identity.subject,
                        displayName: identity.displayName,
                        linkedAt: identity.createdAt,
                        lastUsedAt: identities.clock.now
                    )
                )
            )
        }
    }
}
