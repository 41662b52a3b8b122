import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyTesting
import NIOCore
import Testing

/// A submitted form is read as browsers encode it: `+` is a space, `%2B` a plus, escapes are UTF-8, the first of a
/// repeated field wins, and a malformed escape never breaks the request.
@Suite("Form decoding")
struct FormDecodingTests {
    static let password = "a b+c%d é&=x"

    static func post(_ client: some TestClientProtocol, _ body: String, cookie: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: "/login", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func browserEncodedFieldsDecodeAndTheFirstOfARepeatedFieldWins() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            try await TestUsers.create(fixture, email: "alice@example.com", password: Self.password)
            let browser = WebBrowser(client)
            let page = try await browser.get("/login")
            #expect(page.status == .ok)
            let cookie = await browser.cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
            let csrf = try #require(await browser.lastCSRF)
            // As a browser sends it: spaces as "+", "+" as "%2B", "%" as "%25", "é" as UTF-8 escapes, "&" and "=" escaped.
            let encoded = "a+b%2Bc%25d+%C3%A9%26%3Dx"
            let wrongFirst = try await Self.post(
                client,
                "email=alice%40example.com&password=nope&password=\(encoded)&csrf_token=\(csrf)",
                cookie: cookie
            )
            #expect(wrongFirst.status == .unauthorized)
            let malformed = try await Self.post(client, "email=alice%40example.com&password=%E2%28%A1&&=&csrf_token=\(csrf)", cookie: cookie)
            #expect(malformed.status == .unauthorized)
            let right = try await Self.post(client, "email=alice%40example.com&password=\(encoded)&csrf_token=\(csrf)", cookie: cookie)
            #expect(right.status == .seeOther)
        }
    }
}
