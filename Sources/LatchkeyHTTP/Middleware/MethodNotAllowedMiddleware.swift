import HTTPTypes
import Hummingbird
import LatchkeyCore

/// Answers a request for a path the server serves with a method it does not serve there: `405 Method Not Allowed`
/// with an `Allow` header naming the path's methods and the usual error body (JSON under `/api/v1`, a page
/// elsewhere); `OPTIONS` gets `204` with the same `Allow`, `HEAD` the 405 without a body. Added to the router after
/// every route, so it wraps only the router's "nothing here" answer and matched routes never pass through it.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private struct Route: Sendable {
        var path: RouterPath
        var methods: [HTTPRequest.Method]
    }

    private let routes: [Route]

    /// Remembers `routes` (the router's table once every route is added).
    init(routes: [Router<Context>.RouteDescription]) {
        var methodsByPath: [String: Route] = [:]
        for route in routes {
            methodsByPath[route.path.description, default: Route(path: route.path, methods: [])].methods.append(route.method)
        }
        self.routes = methodsByPath.keys.sorted().map { methodsByPath[$0]! }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let methods = allowedMethods(for: request.uri.path), !methods.contains(request.method) else {
            return try await next(request, context)
        }
        let allow = (methods.map(\.rawValue).sorted() + ["OPTIONS"]).joined(separator: ", ")
        if request.method == .options {
            return Response(status: .noContent, headers: [.allow: allow])
        }
        var response: Response
        if request.method == .head {
            response = Response(status: .methodNotAllowed)
        } else {
            let error = LatchkeyError(
                .methodNotAllowed,
                "\(request.method.rawValue) is not allowed on \(request.uri.path); it answers \(allow)."
            )
            response = ErrorMiddleware<Context>.response(for: error, request: request, requestID: context.id)
        }
        response.headers[.allow] = allow
        return response
    }

    /// The methods of the most specific route whose path matches `path` (literal segments before parameters,
    /// as the router itself prefers them), or nil when no route matches.
    func allowedMethods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        var best: (score: [Int], methods: [HTTPRequest.Method])?
        for route in routes {
            guard let score = Self.score(route.path, segments) else { continue }
            if let current = best, current.score.lexicographicallyPrecedes(score) == false {
                if current.score == score { best?.methods += route.methods }
                continue
            }
            best = (score, route.methods)
        }
        return best?.methods
    }

    /// How specifically `pattern` matches `segments` (2 per literal segment, 1 per parameter or wildcard), or nil.
    private static func score(_ pattern: RouterPath, _ segments: [Substring]) -> [Int]? {
        var score: [Int] = []
        for (index, element) in pattern.components.enumerated() {
            if element.description == "**" {
                return index < segments.count ? score + [0] : nil
            }
            guard index < segments.count, element ~= segments[index] else { return nil }
            score.append(element == segments[index] ? 2 : 1)
        }
        return pattern.components.count == segments.count ? score : nil
    }
}
