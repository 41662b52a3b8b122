import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage

/// `POST /api/v1/tools/invoke`: one catalog tool called as an end user, `{result, meta}` back.
struct ToolInvokeController {
    let invoker: ToolInvoker
    let maxBodySize: Int
    /// Resolves an `identity` (an account an app vouches for) to the person who linked it.
    let identities: AppIdentities

    func addRoutes(to group: RouterGroup<CallerContext>, recorder: RouteRecorder?) {
        group.route(.post, "tools/invoke", recorder: recorder, use: invoke)
    }

    /// The body: the tool, its input, whose credential, and the integration when several offer the tool.
    struct InvokeRequest: Decodable, AllowedKeys {
        var tool: String
        var input: JSONValue?
        var integration: String?
        var externalUserId: String?
        var connectionId: String?
        var credentialId: String?
        /// The app's account of the user (`{provider, subject}`), instead of `externalUserId`.
        var identity: IdentityReference?

        static let allowedKeys: Set<String> = ["tool", "input", "integration", "externalUserId", "connectionId", "credentialId", "identity"]
        static let nullableKeys: Set<String> = ["input"]
    }

    @Sendable func invoke(_ request: Request, context: CallerContext) async throws -> Response {
        let body = try await JSON.decode(InvokeRequest.self, from: request, limit: maxBodySize)
        try CredentialSelection.check(externalUserID: body.externalUserId, credentialID: body.credentialId, connectionID: body.connectionId)
        if let key = body.integration, !IntegrationRules.isStoredKey(key) {
            throw LatchkeyError.invalidField("integration", "must be an integration key")
        }
        let note = RequestLogNote.current
        note?.note(externalUserID: body.externalUserId, connectionID: body.connectionId?.lowercased())
        // An app key that may not call tools learns nothing about the tenant's integrations.
        try await context.authorize(.proxy, integration: nil, request: request)
        let permissions = context.app?.permissions
        let target = try await invoker.target(tool: body.tool, integration: body.integration, tenantID: context.tenantID) { key in
            permissions?.allows(integration: key) != false
        }
        note?.note(integrationKey: target.integration.key, tool: target.tool.name)
        try await context.authorize(.proxy, integration: target.integration.key, request: request)
        var externalUserID = body.externalUserId
        var appID = context.app?.id
        if let reference = body.identity {
            guard context.app != nil else { throw AppIdentities.adminKeyRefused }
            let claim = try AppIdentityClaim.checked(
                provider: reference.provider,
                subject: reference.subject,
                displayName: reference.displayName,
                names: ("identity.provider", "identity.subject", "identity.displayName")
            )
            switch try await identities.callAs(claim, externalUserID: externalUserID, fieldName: "identity", context: context, request: request) {
            case .linkRequired(let required):
                return try AppIdentities.response(required, requestID: context.id)
            case .person(let userID):
                // The linked person's own credentials: the console app's end user named by their id (DESIGN §2).
                externalUserID = userID
                appID = nil
                note?.note(externalUserID: userID, connectionID: body.connectionId?.lowercased())
            }
        }
        let outcome = try await invoker.invoke(
            target,
            .init(
                input: body.input,
                externalUserID: externalUserID,
                connectionID: body.connectionId?.lowercased(),
                credentialID: body.credentialId?.lowercased()
            ),
            caller: .init(tenantID: context.tenantID, appID: appID, actor: context.actor(for: request))
        ) { credential in note?.note(credential) }
        return try JSON.response(ToolInvokeResponse(outcome))
    }
}

/// The account an app's user has with the app (`{"provider": "slack", "subject": "T1/U2"}`).
struct IdentityReference: Decodable, Sendable {
    var provider: String?
    var subject: String?
    var displayName: String?
}

/// `{result, meta: {status, durationMs, credentialId, nextCursor?, cursorInput?}}`.
struct ToolInvokeResponse: Encodable {
    var result: ToolJSON.Encoded
    var meta: Meta

    struct Meta: Encodable {
        var status: Int
        var durationMs: Int
        var credentialId: String
        var nextCursor: String?
        var cursorInput: String?
        var dataset: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(durationMs, forKey: .durationMs)
            try container.encode(credentialId, forKey: .credentialId)
            // A paged tool always says whether there is a next page (null on the last one).
            if let cursorInput {
                try container.encode(nextCursor, forKey: .nextCursor)
                try container.encode(cursorInput, forKey: .cursorInput)
            }
            try container.encodeIfPresent(dataset, forKey: .dataset)
        }

        enum CodingKeys: String, CodingKey { case status, durationMs, credentialId, nextCursor, cursorInput, dataset }
    }

    init(_ outcome: ToolInvoker.Outcome) {
        result = ToolJSON.Encoded(outcome.result ?? .null)
        meta = Meta(
            status: outcome.status,
            durationMs: outcome.durationMilliseconds,
            credentialId: outcome.credential.id,
            nextCursor: outcome.nextCursor,
            cursorInput: outcome.cursorInput,
            dataset: outcome.dataset
        )
    }
}
