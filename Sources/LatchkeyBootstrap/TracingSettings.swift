import Foundation

/// Whether `latchkey serve` exports OpenTelemetry traces, read from the standard `OTEL_*` environment variables
/// (the exporter itself reads the rest: `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`, …).
///
/// Off unless asked for: `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set, or
/// `OTEL_TRACES_EXPORTER=otlp` (or `console`). `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` turn it off
/// whatever else is set. When off, no tracer is installed and every span is a no-op.
public struct TracingSettings: Sendable, Equatable {
    /// Spans are exported.
    public var enabled: Bool

    /// The settings of `environment`; throws, naming the variable, for what this build cannot do (OTLP over gRPC,
    /// an exporter other than otlp, console or none).
    public init(environment: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" {
            enabled = false
            return
        }
        switch value("OTEL_TRACES_EXPORTER")?.lowercased() {
        case "none": enabled = false
        case "otlp", "console": enabled = true
        case nil: enabled = value("OTEL_EXPORTER_OTLP_ENDPOINT") != nil || value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != nil
        case let other?:
            throw ConfigurationError("OTEL_TRACES_EXPORTER=\(other) is not supported: use otlp, console or none.")
        }
        let protocolName = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") != nil ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL"
        if enabled, let wire = value(protocolName), !["http/protobuf", "http/json"].contains(wire.lowercased()) {
            throw ConfigurationError("\(protocolName)=\(wire) is not supported: Latchkey exports traces over OTLP/HTTP (http/protobuf or http/json).")
        }
    }
}
