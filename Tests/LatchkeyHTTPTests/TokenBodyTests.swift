import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyHTTPTesting
import LatchkeyTesting
import Testing

/// The token route reads its small body and writes its answer without the general JSON machinery; what it accepts,
/// refuses and answers is exactly what the general path (`JSON.decode`, `JSON.response`) does.
@Suite("Token route bodies")
struct TokenBodyTests {
    static func raw(_ client: any TestClientProtocol, _ fixture: TestFixture, _ text: String) async throws -> TestResponse {
        try await raw(client, fixture, ByteBuffer(string: text))
    }

    static func raw(_ client: any TestClientProtocol, _ fixture: TestFixture, _ bytes: ByteBuffer) async throws -> TestResponse {
        var headers = fixture.headers
        headers[.contentType] = "application/json"
        return try await client.execute(uri: "/api/v1/credentials/token", method: .post, headers: headers, body: bytes)
    }

    @Test func answersCarryAnyTokenTextAndTheSameDatesAsTheRestOfTheAPI() async throws {
        // Quotes, backslashes, control characters, slashes and non-ASCII: all must come back exactly.
        let accessToken = "tok\"en\\/with\n\t\u{01}\u{1F}é🔑/"
        try await TokenAndHealthAPITests.with { client, fixture, _, _ in
            let created = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "integration": "gitlab", "type": "oauth2", "accessToken": accessToken, "externalUserId": "alice",
                    "expiresAt": "2099-03-04T05:06:07.890Z", "scopes": ["read_api", "a/b \"c\""],
                ])
            )
            #expect(created.status == .created)
            let id = try #require(try created.json["id"] as? String)
            let answer = try await Self.raw(client, fixture, #"{"integration":"gitlab","externalUserId":"alice"}"#)
            #expect(answer.status == .ok)
            #expect(answer.headers[.contentType] == "application/json; charset=utf-8")
            #expect(answer.headers[.cacheControl] == "no-store")
            let json = try answer.json
            #expect(json["accessToken"] as? String == accessToken)
            #expect(json["scopes"] as? [String] == ["read_api", "a/b \"c\""])
            #expect(json["credentialId"] as? String == id && json["integration"] as? String == "gitlab")
            // The date as every other route writes it.
            let listed = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: fixture.headers)
            let expiresAt = try #require(try listed.json["expiresAt"] as? String)
            #expect(json["expiresAt"] as? String == expiresAt)
            #expect(expiresAt == "2099-03-04T05:06:07Z")
            // Slashes are not escaped, like the general encoder.
            #expect(answer.text.contains(#""a/b \"c\"""#))
        }
    }

    @Test func bodiesTheShortPathCannotReadGoTheGeneralWayWithTheSameOutcome() async throws {
        try await TokenAndHealthAPITests.with { client, fixture, _, _ in
            _ = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "gitlab", "type": "oauth2", "accessToken": "gl-token", "externalUserId": "alice"])
            )
            // Read either way: whitespace, simple escapes, a \u escape (general path).
            for text in [
                " {\n \"integration\" : \"gitlab\" ,\t\"externalUserId\":\"alice\" } ",
                #"{"integration":"git\u006cab","externalUserId":"alice"}"#,
                #"{"integration":"gitlab","externalUserId":"al\/ice"}"#.replacingOccurrences(of: #"al\/ice"#, with: "alice"),
            ] {
                let answer = try await Self.raw(client, fixture, text)
                #expect(answer.status == .ok, "\(text)")
                #expect(try answer.json["accessToken"] as? String == "gl-token")
            }
            // Refused with the general path's words.
            let cases: [(String, String)] = [
                (#"{"externalUserId":"alice"}"#, "integration"),
                (#"{"integration":5}"#, "integration"),
                (#"{"integration":"gitlab","extra":"x"}"#, "extra"),
                (#"{"integration":"gitlab","externalUserId":null}"#, "externalUserId"),
                (#"["integration"]"#, "JSON object"),
                (#"{"integration":"gitlab""#, "not valid JSON"),
                (#"{"integration":"gitlab"} x"#, "not valid JSON"),
            ]
            for (text, mention) in cases {
                let answer = try await Self.raw(client, fixture, text)
                #expect(answer.status == .badRequest, "\(text)")
                #expect(answer.errorCode == "invalid_request", "\(text)")
                #expect(answer.text.contains(mention), "\(text): \(answer.text)")
            }
            // Invalid UTF-8 inside a string is not quietly repaired.
            var broken = ByteBuffer(string: #"{"integration":"git"#)
            broken.writeBytes([0xFF, 0xFE])
            broken.writeString(#"lab"}"#)
            #expect(try await Self.raw(client, fixture, broken).status == .badRequest)
        }
    }
}
