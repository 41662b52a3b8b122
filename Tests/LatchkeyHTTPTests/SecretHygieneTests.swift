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

/// A canary secret goes in through every door; it must come out only where it is asked for (reveal).
@Suite("Secrets stay out of logs, errors, metrics and audit")
struct SecretHygieneTests {
    @Test(arguments: TestDatabases.kinds)
    func aCanaryNeverLeaks(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let canary = "CANARY\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
            var outputs: [String] = []

            let created = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: body([
                    "integration": "github", "externalUserId": "alice", "type": "oauth2", "accessToken": "\(canary)-access",
                    "refreshToken": "\(canary)-refresh", "idToken": "\(canary)-id",
                ])
            )
            outputs.append(created.text)
            let id = try #require(try created.json["id"] as? String)
            let basic = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "twilio", "type": "basic", "username": "AC1", "password": "\(canary)-password"])
            )
            outputs.append(basic.text)

            let revealed = try await client.execute(uri: "/api/v1/credentials/\(id)/reveal", method: .post, headers: fixture.headers)
            #expect(revealed.text.contains("\(canary)-access"))  // the one place it belongs

            // Failing requests that carry the canary.
            let failures: [String] = [
                #"{"integration":"github","type":"oauth2","accessToken":"\#(canary)","\#(canary)":1}"#,
                #"{"integration":"\#(canary) x","type":"oauth2","accessToken":"\#(canary)"}"#,
                #"{"integration":"github","type":"oauth2","accessToken":["\#(canary)"]}"#,
                #"{"integration":"github","type":"\#(canary)","#,
                #"{"integration":"github","type":"oauth2","accessToken":"\#(canary)","expiresAt":"\#(canary)"}"#,
            ]
            for failure in failures {
                let response = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(failure))
                #expect(response.status == .badRequest)
                outputs.append(response.text)
            }
            outputs.append(
                try await client.execute(
                    uri: "/api/v1/credentials/\(id)",
                    method: .patch,
                    headers: fixture.headers,
                    body: body(#"{"accessToken":5,"x":"\#(canary)"}"#)
                ).text
            )
            outputs.append(try await client.execute(uri: "/api/v1/credentials?cursor=\(canary)", method: .get, headers: fixture.headers).text)
            outputs.append(
                try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Bearer lk_live_\(canary)"]).text
            )
            outputs.append(try await client.execute(uri: "/setup?token=\(canary)", method: .get).text)
            _ = try await client.execute(
                uri: "/api/v1/credentials/\(id)",
                method: .patch,
                headers: fixture.headers,
                body: body(["refreshToken": "\(canary)-rotated"])
            )

            try await fixture.runtime.database.corruptPayload(ofCredential: id)
            outputs.append(try await client.execute(uri: "/api/v1/credentials/\(id)/reveal", method: .post, headers: fixture.headers).text)

            outputs.append(try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers).text)
            outputs.append(try await client.execute(uri: "/api/v1/audit?limit=200", method: .get, headers: fixture.headers).text)
            outputs.append(try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers).text)
            outputs.append(try await client.execute(uri: "/api/v1/audit/export?format=csv", method: .get, headers: fixture.headers).text)
            outputs.append(try await client.execute(uri: "/metrics", method: .get).text)
            outputs.append(TestMetrics.text)
            outputs.append(fixture.logs.text)

            #expect(fixture.logs.text.contains("credential stored"))  // the capture works
            for (index, output) in outputs.enumerated() {
                #expect(!output.contains(canary), "output #\(index) contains the canary")
                #expect(!output.contains(fixture.adminKey), "output #\(index) contains the admin key")
            }
            let audit = try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers).text
            #expect(audit.contains("access_token_fp") && audit.contains("fp_"))
        }
    }
}
