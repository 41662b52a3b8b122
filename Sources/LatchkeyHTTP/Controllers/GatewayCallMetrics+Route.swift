import Hummingbird
import LatchkeyConnect
import LatchkeyGateway

extension GatewayCallMetrics {
    /// `handler`, counted and timed as a gateway call of the route's `:integration` (``measure(provider:tool:status:_:)``):
    /// the provider's status for an answered call, the error code for a refused one.
    static func measured<Context: RequestContext>(
        tool: String? = nil,
        _ handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) -> @Sendable (Request, Context) async throws -> Response {
        { request, context in
            // Only a well-formed key becomes a label; anything else is counted under an empty provider.
            let provider = context.parameters.get("integration").flatMap { IntegrationRules.isStoredKey($0) ? $0 : nil } ?? ""
            return try await measure(provider: provider, tool: tool, status: \.status.code) { try await handler(request, context) }
        }
    }
}
