import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyGateway
import LatchkeyProviders
import LatchkeyStorage

/// `GET /api/v1/tools`: the catalog's tools a caller can use — those of the tenant's enabled integrations, and for an
/// app key only those of the integrations its permissions name. With `?externalUserId=` each says whether that end
/// user has a credential for it; the lookup opens no secret and hands nothing out.
struct ToolsController {
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let resolver: CredentialResolver

    func addRoutes(to group: RouterGroup<CallerContext>, recorder: RouteRecorder?) {
        group.route(.get, "tools", recorder: recorder, use: list)
    }

    @Sendable func list(_ request: Request, context: CallerContext) async throws -> Response {
        // Present but empty is refused too, like any other bad value.
        let externalUserID = request.uri.queryParameters["externalUserId"].map(String.init)
        try CredentialSelection.check(externalUserID: externalUserID, credentialID: nil, connectionID: nil)
        try await context.authorize(.proxy, integration: nil, request: request)
        let permissions = context.app?.permissions
        let usable = try await integrations.integrations.list(tenantID: context.tenantID)
            .filter { $0.enabled && permissions?.allows(integration: $0.key) != false }
            .sorted { $0.key < $1.key }
        let caller = CredentialResolver.Caller(tenantID: context.tenantID, appID: context.app?.id, actor: context.actor(for: request))
        var items: [ToolResponse] = []
        for integration in usable {
            guard let tools = catalog.provider(id: integration.provider)?.tools, !tools.isEmpty else { continue }
            var connected: Bool?
            if let externalUserID {
                connected = try await isConnected(integration.key, externalUserID, caller)
            }
            for tool in tools.sorted(by: { $0.name < $1.name }) {
                items.append(ToolResponse(tool, integration: integration.key, connected: connected))
            }
        }
        return try JSON.response(ListEnvelope(items: items, nextCursor: nil))
    }

    /// Whether the end user has a credential the caller would use for `integration` (theirs, or the shared one).
    private func isConnected(_ integration: String, _ externalUserID: String, _ caller: CredentialResolver.Caller) async throws -> Bool {
        do {
            _ = try await resolver.find(.init(integrationKey: integration, externalUserID: externalUserID), caller: caller)
            return true
        } catch let error as LatchkeyError where error.code == .notConnected {
            return false
        }
    }
}

/// One tool as `GET /api/v1/tools` lists it.
struct ToolResponse: Encodable {
    var name: String
    var title: String
    var description: String
    var inputSchema: ToolInputSchema
    var readOnly: Bool
    var scopes: [String]
    var integration: String
    /// Set for a tool that answers from this dataset synced for each credential, without calling the provider.
    var dataset: String?
    /// Set when the listing names an end user.
    var connected: Bool?

    init(_ tool: Tool, integration: String, connected: Bool?) {
        name = tool.name
        title = tool.title
        description = tool.description
        inputSchema = tool.input
        readOnly = tool.readOnly
        scopes = tool.scopes
        self.integration = integration
        dataset = tool.fromDataset?.dataset
        self.connected = connected
    }
}
