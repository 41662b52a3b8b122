import HTTPTypes
import Hummingbird
import LatchkeyBootstrap

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let forwarded = Self("Forwarded")!
}

/// Sets the request's client address from `X-Forwarded-For` / `Forwarded` when the connection comes from a trusted
/// proxy; otherwise the address stays the connection's peer and those headers are ignored.
struct ClientAddressMiddleware: RouterMiddleware {
    let proxies: TrustedProxies

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response
    {
        guard !proxies.isEmpty else { return try await next(request, context) }
        var context = context
        context.remoteAddress = proxies.clientAddress(
            peer: context.remoteAddress,
            forwardedFor: request.headers[values: .xForwardedFor],
            forwarded: request.headers[values: .forwarded]
        )
        return try await next(request, context)
    }
}
