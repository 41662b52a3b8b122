import Foundation
import LatchkeyCore
import LatchkeyGateway
import Testing

/// Only the provider's API base is reachable through the proxy, and only harmless headers cross it (DESIGN §5.7).
@Suite("Proxy target")
struct ProxyTargetTests {
    static let base = URL(string: "https://api.example.com/v3")!

    @Test func aPathAndQueryAreAppendedToTheBase() throws {
        #expect(
            try ProxyTarget.url(base: Self.base, path: "repos/o/r/issues", query: "state=open&q=a%20b").absoluteString
                == "https://api.example.com/v3/repos/o/r/issues?state=open&q=a%20b"
        )
        #expect(try ProxyTarget.url(base: Self.base, path: "", query: nil).absoluteString == "https://api.example.com/v3")
        #expect(try ProxyTarget.url(base: URL(string: "https://h.example/")!, path: "a/", query: "").absoluteString == "https://h.example/a/")
        // Ordinary encoded characters and an @ after the first segment stay as they are.
        #expect(
            try ProxyTarget.url(base: Self.base, path: "users/@me/files/a%20b%2Bc", query: nil).absoluteString
                == "https://api.example.com/v3/users/@me/files/a%20b%2Bc"
        )
    }

    // Plain paths (read as bytes, without percent-decoding) are taken as they are, dots inside segments included.
    @Test(arguments: ["a", "a/", "repos/o/r.git/issues", "a.b/..c/c..", "...", "x/.../y", "~user/$(x)/a+b,c;d=e&f!*'"])
    func aPlainPathIsAppendedAsItIs(path: String) throws {
        #expect(try ProxyTarget.url(base: Self.base, path: path, query: nil).absoluteString == "https://api.example.com/v3/" + path)
    }

    @Test(arguments: [
        ("https://evil.example/x", "not an absolute URL"),
        ("http:evil.example", "not an absolute URL"),
        ("javascript:alert(1)", "not an absolute URL"),
        ("/evil.example/x", "must not start with //"),
        ("a//b", "empty segments"),
        ("..", ". or .. segments"),
        ("a/../../admin", ". or .. segments"),
        ("a/./b", ". or .. segments"),
        ("%2e%2e/admin", ". or .. segments"),
        ("%2E%2E/admin", ". or .. segments"),
        ("%2E./admin", ". or .. segments"),
        (".%2e/admin", ". or .. segments"),
        ("%252e%252e/admin", ". or .. segments"),
        ("%25252e%25252e/admin", ". or .. segments"),
        ("a/%2e", ". or .. segments"),
        (".", ". or .. segments"),
        ("./a", ". or .. segments"),
        ("a/.", ". or .. segments"),
        ("a/..", ". or .. segments"),
        ("a/../", ". or .. segments"),
        ("//", "must not start with //"),
        ("a///", "empty segments"),
        ("a\u{0}b", "control characters"),
        ("a\u{7F}", "control characters"),
        ("ünïcode/..", ". or .. segments"),
        ("a%2F..%2Fadmin", "encoded slashes"),
        ("a%2fb", "encoded slashes"),
        ("a%252Fb", "encoded slashes"),
        ("a%5Cb", "encoded slashes or backslashes"),
        ("a\\b", "backslashes"),
        ("user:pw@evil.example/x", "user info"),
        ("user@evil.example", "user info"),
        ("a%00b", "control characters"),
        ("a%0d%0aX-Injected:%201", "control characters"),
        ("a%2500", "control characters"),
        ("a b", "control characters or spaces"),
        ("a\tb", "control characters"),
        ("a#frag", "? or #"),
        ("a?b=c", "? or #"),
    ])
    func aPathThatCouldLeaveTheBaseIsRefusedNamingWhy(path: String, why: String) {
        do {
            _ = try ProxyTarget.url(base: Self.base, path: path, query: nil)
            Issue.record("\(path) was accepted")
        } catch {
            #expect(error.code == .invalidRequest)
            #expect(error.fields.first?.path == "path")
            #expect(error.message.contains(why), "\(path): \(error.message)")
        }
    }

    // Encoded characters in a query are data and pass as they are; raw ones that could split the request do not.
    @Test(arguments: ["a=1\r\nHost: evil", "a=1 2", "a=1#x", "a=\u{7F}"])
    func aQueryWithControlCharactersOrAFragmentIsRefused(query: String) {
        #expect(throws: LatchkeyError.self) { try ProxyTarget.url(base: Self.base, path: "x", query: query) }
    }

    @Test func callerCredentialsForwardingAndHopByHopHeadersAreDroppedOnTheWayOut() {
        let headers: [(name: String, value: String)] = [
            ("Authorization", "Bearer callers-own"), ("Cookie", "s=1"), ("Host", "evil.example"), ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Host", "evil.example"), ("Forwarded", "for=1.2.3.4"), ("Latchkey-End-User", "alice"),
            ("Latchkey-Connection-Id", "x"), ("Connection", "keep-alive, X-Secret-Hop"), ("X-Secret-Hop", "1"), ("Keep-Alive", "5"),
            ("Proxy-Authorization", "Basic x"), ("TE", "trailers"), ("Trailer", "X"), ("Transfer-Encoding", "chunked"),
            ("Upgrade", "websocket"), ("Content-Length", "3"), ("Accept", "application/json"), ("Content-Type", "text/plain"),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ]
        #expect(
            ProxyTarget.requestHeaders(headers).map(\.name) == ["Accept", "Content-Type", "X-GitHub-Api-Version"]
        )
    }

    @Test func cookiesAndHopByHopHeadersAreDroppedOnTheWayBack() {
        let headers: [(name: String, value: String)] = [
            ("Set-Cookie", "session=provider"), ("Connection", "close, X-Hop"), ("X-Hop", "1"), ("Transfer-Encoding", "chunked"),
            ("Keep-Alive", "5"), ("Content-Length", "10"), ("Proxy-Authenticate", "Basic"), ("Content-Type", "application/json"),
            ("X-RateLimit-Remaining", "42"), ("Link", "<https://api.example.com/v3/x?page=2>; rel=\"next\""),
        ]
        #expect(ProxyTarget.responseHeaders(headers).map(\.name) == ["Content-Type", "X-RateLimit-Remaining", "Link"])
    }
}
