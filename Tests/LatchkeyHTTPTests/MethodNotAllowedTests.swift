import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyHTTPTesting
import LatchkeyTesting
import Testing

/// A known path with a method it does not serve: 405 with `Allow`, for API and page paths alike.
@Suite("Method not allowed")
struct MethodNotAllowedTests {
    @Test func anAPIPathAnswers405WithAllowAndTheErrorBody() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let trace = try await client.execute(uri: "/api/v1/credentials", method: .trace, headers: fixture.headers)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "GET, POST, OPTIONS")
            #expect(trace.errorCode == "method_not_allowed")
            let error = try #require(try trace.json["error"] as? [String: Any])
            #expect(error["message"] as? String == "TRACE is not allowed on /api/v1/credentials; it answers GET, POST, OPTIONS.")

            // A literal segment wins over a parameter, as in the router: `token` is not a credential id.
            let token = try await client.execute(uri: "/api/v1/credentials/token", method: .get, headers: fixture.headers)
            #expect(token.status == .methodNotAllowed)
            #expect(token.headers[.allow] == "POST, OPTIONS")

            let id = UUID().uuidString.lowercased()
            let put = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .put, headers: fixture.headers)
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "DELETE, GET, PATCH, OPTIONS")
        }
    }

    @Test func aPagePathAnswers405WithAllowAndAPage() async throws {
        try await TestApp.with(.sqlite) { client, _ in
            let delete = try await client.execute(uri: "/login", method: .delete, headers: [.accept: "text/html"])
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "GET, POST, OPTIONS")
            #expect(delete.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(delete.text.contains("DELETE is not allowed on /login"))
        }
    }

    @Test func optionsListsTheMethodsAndHeadGetsNoBody() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let options = try await client.execute(uri: "/api/v1/webhooks", method: .options, headers: fixture.headers)
            #expect(options.status == .noContent)
            #expect(options.headers[.allow] == "DELETE, GET, PUT, OPTIONS")
            let head = try await client.execute(uri: "/healthz", method: .head)
            #expect(head.status == .methodNotAllowed)
            #expect(head.headers[.allow] == "GET, OPTIONS")
            #expect(head.body.readableBytes == 0)
        }
    }

    @Test func unknownPathsAndUnknownRecordsStay404() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let nowhere = try await client.execute(uri: "/api/v1/nowhere", method: .trace, headers: fixture.headers)
            #expect(nowhere.status == .notFound)
            #expect(nowhere.headers[.allow] == nil)
            let missing = try await client.execute(
                uri: "/api/v1/credentials/\(UUID().uuidString.lowercased())",
                method: .get,
                headers: fixture.headers
            )
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
        }
    }
}
