import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyTesting
import Metrics
import Prometheus
import Testing

@Suite("Metrics catalogue")
struct MetricsCatalogueTests {
    static func exported(_ label: String) -> String {
        String(label.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }

    /// The sample line of one series with no events yet, e.g. `latchkey_refresh_failures_total{reason="transient"} 0`.
    static func zeroSample(_ entry: MetricsCatalogue.Entry, _ dimensions: [(String, String)]) -> String {
        let labels = dimensions.isEmpty ? "" : "{" + dimensions.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
        switch entry.kind {
        case .counter, .gauge, .meter: return exported(entry.label) + labels + " 0"
        case .timer, .histogram: return exported(entry.label) + "_count" + labels + " 0"
        }
    }

    @Test func aFreshRegistryExportsEveryCataloguedSeriesAtZeroWithHelp() throws {
        let registry = PrometheusCollectorRegistry()
        LatchkeyMetricsFactory(registry: registry).exportCatalogue()
        let text = registry.emitToString()
        for entry in MetricsCatalogue.entries where !entry.initial.isEmpty {
            let name = Self.exported(entry.label)
            #expect(text.contains("# HELP \(name) \(entry.help)\n"), "no HELP line for \(name)")
            for dimensions in entry.initial {
                #expect(text.contains(Self.zeroSample(entry, dimensions) + "\n"), "no 0 sample \(Self.zeroSample(entry, dimensions))")
            }
        }
        // The refresher's documented series, named here so that renaming one in the catalogue fails this test.
        for reason in ["transient", "needs_reauth", "invalid_client", "bad_response", "circuit_open"] {
            #expect(text.contains(#"latchkey_refresh_failures_total{reason="\#(reason)"} 0"#))
        }
        for trigger in ["on_demand", "proactive"] {
            #expect(text.contains(#"latchkey_refresh_attempts_total{trigger="\#(trigger)"} 0"#))
            #expect(text.contains(#"latchkey_refresh_successes_total{trigger="\#(trigger)"} 0"#))
        }
        #expect(text.contains(#"latchkey_refresh_lag_seconds_bucket{le="0.1"} 0"#))
        #expect(text.contains("latchkey_refresh_duration_seconds_count 0"))
        #expect(text.contains("latchkey_key_rewrap_rows_total 0"))
    }

    @Test func seriesMadeByTheCodeCarryTheCatalogueHelpAndCount() throws {
        let registry = PrometheusCollectorRegistry()
        let factory = LatchkeyMetricsFactory(registry: registry)
        factory.exportCatalogue()
        Counter(label: "latchkey_refresh_failures_total", dimensions: [("reason", "transient")], factory: factory).increment()
        Counter(label: "hb.requests", dimensions: [("http.route", "/healthz"), ("http.response.status_code", "200")], factory: factory).increment()
        Counter(label: "not_catalogued_total", factory: factory).increment()
        let text = registry.emitToString()
        #expect(text.contains(#"latchkey_refresh_failures_total{reason="transient"} 1"#))
        #expect(text.contains(#"latchkey_refresh_failures_total{reason="needs_reauth"} 0"#))
        #expect(text.contains("# HELP hb_requests HTTP requests, by route, method and status code."))
        #expect(text.contains(#"hb_requests{http_route="/healthz",http_response_status_code="200"} 1"#))
        #expect(text.contains("not_catalogued_total 1"))
    }

    @Test func theServersMetricsEndpointShowsHelpLines() async throws {
        try await TestApp.with(.sqlite) { client, _ in
            let text = try await client.execute(uri: "/metrics", method: .get).text
            for name in ["latchkey_refresh_attempts_total", "latchkey_refresh_failures_total", "latchkey_vault_operations_total"] {
                #expect(text.contains("# HELP \(name) "), "no HELP line for \(name)")
            }
        }
    }
}
