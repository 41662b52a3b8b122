import HTTPTypes
import Hummingbird
import Instrumentation
import Tracing

/// The server span of each request (OpenTelemetry, when the process exports traces; a no-op otherwise), parent of
/// the spans of what the request causes: the vault open, a token refresh, the calls to the provider. It carries the
/// method, the route pattern, the status and the request id (`X-Request-Id`), and continues a caller's trace
/// (`traceparent`). Never the path, the query, a header or a body: codes, state and tokens travel there. Hummingbird's
/// own `TracingMiddleware` records the path and query, so it is not used.
struct RequestTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var parent = InstrumentationContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HeaderExtractor())
        let method = request.method.rawValue
        return try await withSpan("\(method) unmatched", context: parent, ofKind: .server) { span in
            span.attributes["http.request.method"] = method
            span.attributes["latchkey.request_id"] = context.id
            do {
                let response = try await next(request, context)
                finish(span, context: context, method: method, status: Int(response.status.code))
                return response
            } catch {
                finish(span, context: context, method: method, status: Int((error as? any HTTPResponseError)?.status.code ?? 500))
                throw error
            }
        }
    }

    private func finish(_ span: any Span, context: Context, method: String, status: Int) {
        if let route = context.endpointPath {
            span.operationName = "\(method) \(route)"
            span.attributes["http.route"] = route
        }
        span.attributes["http.response.status_code"] = status
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }
}

/// Reads trace context headers (`traceparent`, `tracestate`) from a request.
private struct HeaderExtractor: Extractor {
    func extract(key name: String, from headers: HTTPFields) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}
