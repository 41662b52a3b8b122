import LatchkeyBootstrap
import Testing

/// When `latchkey serve` exports traces: only when the standard `OTEL_*` settings ask for it, over OTLP/HTTP.
@Suite("Tracing settings")
struct TracingSettingsTests {
    @Test func tracingIsOffUnlessAnEndpointOrAnExporterIsSet() throws {
        #expect(try TracingSettings(environment: [:]).enabled == false)
        #expect(try TracingSettings(environment: ["OTEL_SERVICE_NAME": "latchkey", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]).enabled == false)
        #expect(try TracingSettings(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": " "]).enabled == false)
        #expect(try TracingSettings(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).enabled)
        #expect(try TracingSettings(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"]).enabled)
        #expect(try TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "otlp"]).enabled)
        #expect(try TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "console"]).enabled)
    }

    @Test func noneAndSDKDisabledWinOverAnEndpoint() throws {
        let endpoint = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
        #expect(try TracingSettings(environment: endpoint.merging(["OTEL_TRACES_EXPORTER": "none"]) { $1 }).enabled == false)
        #expect(try TracingSettings(environment: endpoint.merging(["OTEL_SDK_DISABLED": "TRUE"]) { $1 }).enabled == false)
    }

    @Test func whatThisBuildCannotExportIsRefusedByName() throws {
        let endpoint = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"]
        for (name, value) in [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"), ("OTEL_TRACES_EXPORTER", "zipkin"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try TracingSettings(environment: endpoint.merging([name: value]) { $1 }) }
            #expect(error?.description.contains("\(name)=\(value) is not supported") == true, "\(error?.description ?? "")")
        }
        for wire in ["http/protobuf", "http/json"] {
            #expect(try TracingSettings(environment: endpoint.merging(["OTEL_EXPORTER_OTLP_PROTOCOL": wire]) { $1 }).enabled)
        }
    }
}
