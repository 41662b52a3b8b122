import HTTPTypes
import Hummingbird
import Synchronization

/// Remembers every `/api/v1` route as it is registered, so that the OpenAPI document can be checked against
/// the router (every route documented, every documented route served).
public final class RouteRecorder: Sendable {
    public struct Route: Sendable, Hashable, CustomStringConvertible {
        public var method: String
        /// OpenAPI form: `/api/v1/credentials/{id}`.
        public var path: String
        public var description: String { "\(method) \(path)" }
    }

    private let recorded = Mutex<[Route]>([])

    public init() {}

    public var routes: [Route] { recorded.withLock { $0 } }

    func record(_ method: HTTPRequest.Method, _ path: String) {
        let openAPIPath =
            "/api/v1/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        recorded.withLock { $0.append(Route(method: method.rawValue, path: openAPIPath)) }
    }
}

extension RouterGroup {
    /// Registers `handler` for `method path` and records it.
    @discardableResult
    func route(
        _ method: HTTPRequest.Method,
        _ path: String,
        recorder: RouteRecorder?,
        use handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) -> Self {
        recorder?.record(method, path)
        return on(RouterPath(path), method: method, use: handler)
    }
}
