import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
}

/// Tells browsers to reach this server over HTTPS only, for a year (HSTS), on every answer — error pages included.
/// Added when the public URL is https, whether TLS ends here or at a reverse proxy in front.
struct StrictTransportSecurityMiddleware: RouterMiddleware {
    static let value = "max-age=31536000"

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response
    {
        var response = try await next(request, context)
        response.headers[.strictTransportSecurity] = Self.value
        return response
    }
}
