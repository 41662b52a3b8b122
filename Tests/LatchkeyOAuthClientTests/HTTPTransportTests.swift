import Foundation
import LatchkeyOAuthClient
import Testing

@Suite struct OutboundRequestTests {
    @Test func headerLookupIgnoresCase() throws {
        let request = OutboundRequest(
            method: "POST",
            url: try #require(URL(string: "https://example.com/token")),
            headers: [(name: "Accept", value: "application/json")]
        )
        #expect(request.header("accept") == "application/json")
        #expect(request.header("Content-Type") == nil)
    }

    @Test func formFieldsDecodePlusAndPercentEscapes() throws {
        let request = OutboundRequest(
            method: "POST",
            url: try #require(URL(string: "https://example.com/token")),
            body: Data("grant_type=authorization_code&redirect_uri=http%3A%2F%2Fa%2Fb&scope=a+b".utf8)
        )
        #expect(request.formFields == ["grant_type": "authorization_code", "redirect_uri": "http://a/b", "scope": "a b"])
    }
}
