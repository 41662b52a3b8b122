import Foundation
import Tracing

/// The client span of one outbound call to a provider (OpenTelemetry, when the process exports traces; a no-op
/// otherwise). It names the method, the host and port and the answer's status: never the path, the query, a header
/// or a body, which can carry codes and tokens.
enum OutboundTracing {
    static func traced<T>(
        _ request: OutboundRequest,
        status: (T) -> Int,
        isolation: isolated (any Actor)? = #isolation,
        _ call: () async throws -> T
    ) async throws -> T {
        try await withSpan("HTTP \(request.method)", ofKind: .client) { span in
            span.attributes["http.request.method"] = request.method
            span.attributes["server.address"] = request.url.host ?? ""
            if let port = request.url.port { span.attributes["server.port"] = port }
            span.attributes["url.scheme"] = request.url.scheme ?? ""
            let result = try await call()
            let code = status(result)
            span.attributes["http.response.status_code"] = code
            if code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return result
        }
    }
}
