import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

@Suite("Operations endpoints")
struct OpsTests {
    @Test(arguments: TestDatabases.kinds)
    func healthReadinessAndMetricsAnswer(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(try health.json["status"] as? String == "ok")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try ready.json["status"] as? String == "ready")
            _ = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests{") && metrics.text.contains(#"http_route="/api/v1/credentials""#))
            #expect(metrics.text.contains("http_server_request_duration_bucket"))

            // Vault operations and key versions in use.
            let created = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "github", "type": "api_key", "apiKey": "k"])
            )
            #expect(created.status == .created)
            try await fixture.runtime.rewrapService().publishKeyVersionMetrics()
            try await fixture.runtime.keyRotationScheduler().check()
            let after = try await client.execute(uri: "/metrics", method: .get).text
            #expect(after.contains(#"latchkey_vault_operations_total{operation="create",result="success"}"#))
            #expect(after.contains(#"latchkey_encrypted_rows{key_version="1"}"#))
            #expect(after.contains("latchkey_active_data_key_version"))
            // Both are exported once the scheduler has checked. Their values are process-wide gauges that the rotation
            // tests running beside this one move with clocks of their own, so the values are asserted there, not here.
            #expect(after.contains("\nlatchkey_data_key_age_seconds ") && after.contains("\nlatchkey_key_rotation_overdue "))
            #expect(health.headers[HTTPField.Name("X-Request-Id")!] != nil)
        }
    }

    @Test func everyAPIRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = try response.json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented: Set<String> = []
            for (path, operations) in paths {
                for method in operations.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            let served = Set(fixture.routes.routes.map(\.description))
            #expect(!served.isEmpty)
            #expect(served.subtracting(documented).isEmpty, "routes missing from /openapi.json: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")

            // And each documented route really answers (anything but the router's own 404).
            for route in documented {
                let parts = route.split(separator: " ", maxSplits: 1)
                let uri = String(parts[1]).replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                let answer = try await client.execute(uri: uri, method: HTTPRequest.Method(String(parts[0]))!, headers: fixture.headers)
                #expect(!answer.text.contains("There is nothing at"), "\(route) is documented but not routed")
            }
        }
    }
}
