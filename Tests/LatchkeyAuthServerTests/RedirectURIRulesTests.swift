import LatchkeyAuthServer
import Testing

@Suite("Redirect URI rules")
struct RedirectURIRulesTests {
    @Test(arguments: ["https://client.example/cb", "http://127.0.0.1:3000/cb", "http://localhost/callback", "http://[::1]:8080/cb"])
    func acceptsHTTPSAndLoopback(uri: String) {
        #expect(RedirectURIRules.problem(uri) == nil)
    }

    @Test(arguments: [
        "http://client.example/cb",  // http off loopback
        "https://client.example/cb#frag",  // fragment
        "https://user:pw@client.example/cb",  // user info
        "https://user@client.example/cb",
        "javascript:alert(1)",
        "cursor://callback",
        "/relative/cb",
        "",
    ])
    func refusesUnsafeURIs(uri: String) {
        #expect(RedirectURIRules.problem(uri) != nil)
    }

    @Test func matchesExactlyButTheLoopbackPort() {
        let registered = "https://client.example/cb"
        #expect(RedirectURIRules.matches(registered: registered, requested: registered))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://client.example/cb/"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://CLIENT.example/cb"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://client.example/CB"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://client.example:8443/cb"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "http://client.example/cb"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://client.example/cb?x=1"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://client.example/cb#x"))
        #expect(!RedirectURIRules.matches(registered: registered, requested: "https://evil@client.example/cb"))
        let loopback = "http://127.0.0.1:3000/callback"
        #expect(RedirectURIRules.matches(registered: loopback, requested: "http://127.0.0.1:51234/callback"))
        #expect(RedirectURIRules.matches(registered: loopback, requested: "http://127.0.0.1/callback"))
        #expect(!RedirectURIRules.matches(registered: loopback, requested: "http://127.0.0.1:51234/callback/"))
        #expect(!RedirectURIRules.matches(registered: loopback, requested: "http://localhost:3000/callback"))
        #expect(!RedirectURIRules.matches(registered: loopback, requested: "http://127.0.0.1:3000/callback#x"))
    }

    @Test func addsParametersToTheQuery() {
        let url = RedirectURIRules.adding([("code", "a+b"), ("state", "s 1")], to: "https://client.example/cb?x=1")
        #expect(url == "https://client.example/cb?x=1&code=a%2Bb&state=s%201")
    }
}
