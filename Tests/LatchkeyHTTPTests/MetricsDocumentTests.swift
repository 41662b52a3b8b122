import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyTesting
import Testing

/// `docs/metrics.md` lists every metric the server can emit, with its type and labels: the catalogue and what a
/// server exports after serving calls agree with it, both ways.
@Suite("Metrics document")
struct MetricsDocumentTests {
    /// One row of the document's tables.
    struct Row: Equatable {
        var type: String
        var labels: [String]
    }

    /// Metrics the document describes ahead of the code that records them; each leaves this list when it lands in the
    /// catalogue (the test below fails while it is in both).
    static let documentedAhead: Set<String> = []

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The document's rows by metric name: `| \`name\` | type | \`label\`, … or — | meaning |`.
    static func documented() throws -> [String: Row] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        var rows: [String: Row] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let labels = cells[3] == "—" ? [] : cells[3].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "` ")) }
            #expect(rows[name] == nil, "docs/metrics.md lists \(name) twice")
            #expect(!cells[4].isEmpty, "docs/metrics.md gives \(name) no meaning")
            rows[name] = Row(type: cells[2], labels: labels)
        }
        return rows
    }

    /// The Prometheus type a catalogue entry is exported as.
    static func prometheusType(_ kind: MetricsCatalogue.Kind) -> String {
        switch kind {
        case .counter: "counter"
        case .gauge, .meter: "gauge"
        case .timer, .histogram: "histogram"
        }
    }

    /// `# TYPE name type` lines of an exposition: the metric families it holds.
    static func exportedTypes(_ text: String) -> [String: String] {
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
        }
        return types
    }

    @Test func everyCataloguedMetricIsDocumentedWithItsTypeAndLabelsAndNothingElseIs() throws {
        let rows = try Self.documented()
        #expect(rows.count >= MetricsCatalogue.entries.count)
        var catalogued: Set<String> = []
        for entry in MetricsCatalogue.entries {
            let name = MetricsCatalogueTests.exported(entry.label)
            catalogued.insert(name)
            let row = try #require(rows[name], "docs/metrics.md does not document \(name)")
            #expect(row.type == Self.prometheusType(entry.kind), "\(name) is documented as a \(row.type)")
            for dimensions in entry.initial {
                #expect(dimensions.map { MetricsCatalogueTests.exported($0.0) } == row.labels, "\(name): documented labels \(row.labels)")
            }
        }
        for name in rows.keys where !catalogued.contains(name) {
            #expect(Self.documentedAhead.contains(name), "docs/metrics.md documents \(name), which the code does not record")
        }
        #expect(Self.documentedAhead.isDisjoint(with: catalogued), "a metric documented ahead is catalogued now: drop it from the list")
    }

    @Test(arguments: TestDatabases.kinds)
    func whatAServerExportsAfterServingCallsIsDocumented(_ kind: TestDatabases.Kind) async throws {
        let rows = try Self.documented()
        try await ProxyRouteTests.with(kind) { client, fixture, upstream, _ in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let proxied = try await client.execute(uri: "/api/v1/proxy/github/user", method: .get, headers: ProxyRouteTests.headers(fixture))
            #expect(proxied.status == .ok)
            await upstream.answer(OutboundResponse(status: 503, body: Data("{}".utf8)))
            _ = try await client.execute(uri: "/api/v1/proxy/github/user", method: .get, headers: ProxyRouteTests.headers(fixture))
            _ = try await client.execute(uri: "/api/v1/no-such-route", method: .get, headers: fixture.headers)
            let text = try await client.execute(uri: "/metrics", method: .get).text
            let types = Self.exportedTypes(text)
            for name in ["latchkey_gateway_calls_total", "latchkey_rate_limit_admitted_total", "hb_requests", "http_server_request_duration"] {
                #expect(types[name] != nil, "/metrics has no \(name) after a proxied call")
            }
            for (name, type) in types {
                let row = rows[name]
                #expect(row != nil, "/metrics exports \(name), which docs/metrics.md does not document")
                if let row { #expect(row.type == type, "\(name) is exported as a \(type), documented as a \(row.type)") }
            }
        }
    }
}
