import Foundation
import LatchkeyBootstrap
import Logging
import OTel
import ServiceLifecycle
import Tracing

extension ServeCommand {
    /// Installs the OpenTelemetry tracer when the `OTEL_*` environment asks for it (``TracingSettings``) and returns
    /// the service that exports its spans (OTLP/HTTP, batched), to run beside the server; nil, with the no-op tracer
    /// left in place, otherwise.
    static func bootstrapTracing(environment: [String: String], logger: Logger) throws -> (any Service)? {
        guard try TracingSettings(environment: environment).enabled else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "latchkey"
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        // OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_*, OTEL_TRACES_EXPORTER, OTEL_BSP_* and the sampler override these.
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        logger.info("exporting traces", metadata: ["service_name": "\(environment["OTEL_SERVICE_NAME"] ?? "latchkey")"])
        return backend.service
    }
}
