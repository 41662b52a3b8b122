import Hummingbird
import LatchkeyStorage
import Logging
import Metrics
import NIOCore
import Prometheus

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.
struct OpsController<Context: RequestContext> {
    let database: Database
    let registry: PrometheusCollectorRegistry?

    func addRoutes(to router: Router<Context>) {
        router.get("healthz") { _, _ in try JSON.response(["status": "ok"]) }
        router.get("readyz") { _, context in
            do {
                try await database.ping()
                return try JSON.response(["status": "ready"])
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(Database.describe(error))"])
                return try JSON.response(["status": "unavailable", "reason": "database unreachable"], status: .serviceUnavailable)
            }
        }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            registry?.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: try OpenAPIDocument.data()))
            )
        }
    }
}
