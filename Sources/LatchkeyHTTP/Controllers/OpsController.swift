import Foundation
import Hummingbird
import LatchkeyStorage
import Logging
import Metrics
import NIOCore
import Prometheus

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.
struct OpsController<Context: RequestContext> {
    let database: Database
    let vault: CredentialVault
    let registry: PrometheusCollectorRegistry?

    func addRoutes(to router: Router<Context>) {
        router.get("healthz") { _, _ in try JSON.response(["status": "ok"]) }
        router.get("readyz") { _, context in
            if await database.probe() { return try JSON.response(["status": "ready"]) }
            context.logger.warning("readiness check failed: the database is unreachable")
            return try JSON.response(degraded(), status: degradedCanServe() ? .ok : .serviceUnavailable)
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

    /// Degraded mode (README, "When the database is unreachable"): still ready, for the calls it can serve from what it
    /// resolved lately, while it may hold their audit events; unavailable when it may not.
    private func degradedCanServe() -> Bool {
        let mode = database.availability.degradedMode
        return mode.lifetime > 0 && vault.heldAuditEvents < mode.heldAuditEvents
    }

    private func degraded() -> ReadinessBody {
        let mode = database.availability.degradedMode
        let canServe = degradedCanServe()
        return ReadinessBody(
            status: canServe ? "degraded" : "unavailable",
            reason: "database unreachable",
            unreachableSince: database.availability.unreachableSince.map { ISO8601DateFormatter().string(from: $0) },
            heldAuditEvents: vault.heldAuditEvents,
            heldAuditEventsLimit: mode.heldAuditEvents,
            degradedLifetimeSeconds: Int(mode.lifetime)
        )
    }
}

/// `/readyz` while the database does not answer.
struct ReadinessBody: Encodable {
    var status: String
    var reason: String
    var unreachableSince: String?
    var heldAuditEvents: Int
    var heldAuditEventsLimit: Int
    var degradedLifetimeSeconds: Int
}
