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

        static let allowedKeys: Set<String> = ["tool", "input", "integration", "externalUserId", "connectionId", "credentialId"]
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
        let outcome = try await invoker.invoke(
            target,
            .init(
                input: body.input,
                externalUserID: body.externalUserId,
                connectionID: body.connectionId?.lowercased(),
                credentialID: body.credentialId?.lowercased()
            ),
            caller: .init(tenantID: context.tenantID, appID: context.app?.id, actor: context.actor(for: request))
        ) { credential in note?.note(credential) }
        return try JSON.response(ToolInvokeResponse(outcome))
    }
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
        }

        enum CodingKeys: String, CodingKey { case status, durationMs, credentialId, nextCursor, cursorInput }
    }

    init(_ outcome: ToolInvoker.Outcome) {
        result = ToolJSON.Encoded(outcome.result ?? .null)
        meta = Meta(
            status: outcome.status,
            durationMs: outcome.durationMilliseconds,
            credentialId: outcome.credential.id,
            nextCursor: outcome.nextCursor,
            cursorInput: outcome.cursorInput
        )
    }
}
