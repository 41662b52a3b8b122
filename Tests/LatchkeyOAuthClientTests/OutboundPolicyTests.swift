import Foundation
import LatchkeyOAuthClient
import Testing

@Suite struct OutboundPolicyTests {
    let strict = OutboundPolicy(allowPrivateNetwork: false)
    let open = OutboundPolicy(allowPrivateNetwork: true)

    func outcome(_ policy: OutboundPolicy, _ text: String) async -> OutboundError? {
        guard let url = URL(string: text) else {
            Issue.record("bad test URL \(text)")
            return nil
        }
        do {
            try await policy.check(url)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        "https://127.0.0.1/token", "https://127.8.9.10/", "https://10.0.0.1/", "https://172.16.5.4/", "https://172.31.255.255/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data", "https://100.64.0.1/", "https://0.0.0.0/", "https://[::1]/", "https://[::]/",
        "https://[fc00::1]/",
        "https://[fd12:3456::1]/", "https://[fe80::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:10.1.2.3]/", "https://localhost/",
        "https://api.localhost/", "https://localhost./", "http://127.0.0.1:8080/", "http://localhost:9000/x", "https://0x7f000001/",
        "https://2130706433/", "https://0177.0.0.1/", "https://127.1/", "https://[64:ff9b::a00:5]/", "https://[2002:a00:5::1]/",
        "https://198.18.0.1/", "https://localhost.localdomain/", "https://[64:ff9b:1::1]/",
    ])
    func privateHostsAreBlockedWithoutTheFlagAndAllowedWithIt(url: String) async {
        let blocked = await outcome(strict, url)
        guard case .blockedAddress = blocked else {
            Issue.record("\(url) not blocked: \(String(describing: blocked))")
            return
        }
        #expect(await outcome(open, url) == nil, "\(url)")
    }

    @Test func blockedAddressNamesTheHostOnly() async {
        #expect(await outcome(strict, "https://10.0.0.1/path?token=abc") == .blockedAddress(host: "10.0.0.1", reason: "it is a private address"))
    }

    @Test(arguments: ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)"])
    func nonHTTPSchemesAreRefused(url: String) async {
        for policy in [strict, open] {
            #expect(await outcome(policy, url) == .unsupportedURL(reason: "only http and https URLs are called"), "\(url)")
        }
    }

    @Test func userInfoIsRefused() async {
        for policy in [strict, open] {
            #expect(await outcome(policy, "https://user:pass@93.184.215.14/") == .unsupportedURL(reason: "user info in the URL"))
            #expect(await outcome(policy, "https://user@127.0.0.1/") == .unsupportedURL(reason: "user info in the URL"))
        }
    }

    @Test func plainHTTPToAPublicHostIsRefusedEvenWithTheFlag() async {
        for policy in [strict, open] {
            #expect(await outcome(policy, "http://93.184.215.14/") == .unsupportedURL(reason: "plain http is only used for private hosts"))
            #expect(await outcome(policy, "http://[2606:4700::1111]/") == .unsupportedURL(reason: "plain http is only used for private hosts"))
        }
    }

    @Test func publicAddressesPass() async {
        for url in ["https://93.184.215.14/", "https://[2606:4700::1111]/", "https://8.8.8.8:8443/x"] {
            #expect(await outcome(strict, url) == nil, "\(url)")
        }
    }

    @Test func unresolvableNamesAreUnreachable() async {
        #expect(await outcome(strict, "https://does-not-exist.invalid/") == .unreachable(host: "does-not-exist.invalid"))
    }

    @Test func namesAreJudgedByEveryAddressTheyResolveTo() async throws {
        let resolver = NameResolver.fixed([
            "intranet.example": [try #require(AddressClassifier.literal("8.8.8.8")), try #require(AddressClassifier.literal("10.0.0.5"))],
            "public.example": [try #require(AddressClassifier.literal("2606:4700::1"))],
        ])
        let policy = OutboundPolicy(allowPrivateNetwork: false, resolver: resolver)
        #expect(
            await outcome(policy, "https://intranet.example/token")
                == .blockedAddress(host: "intranet.example", reason: "it resolves to 10.0.0.5, a private address")
        )
        #expect(await outcome(policy, "https://public.example/token") == nil)
        #expect(await outcome(policy, "https://unknown.example/") == .unreachable(host: "unknown.example"))
    }

    @Test func controlCharactersWhitespaceAndEncodedHostsAreRefused() async throws {
        let crlf = try #require(URL(string: "https://example.com/a%0d%0a")).absoluteString.replacingOccurrences(of: "%0d%0a", with: "\r\n")
        #expect(OutboundPolicy.textProblem(crlf) == "contains a control character or whitespace")
        #expect(OutboundPolicy.textProblem("https://example.com/a b") == "contains a control character or whitespace")
        #expect(OutboundPolicy.textProblem("https://example.com/a\u{0}") == "contains a control character or whitespace")
        #expect(OutboundPolicy.textProblem("https://example.com/a%20b") == nil)
        #expect(OutboundPolicy.hostProblem("fe80::1%eth0") == "the host is percent-encoded or names an interface")
        #expect(OutboundPolicy.hostProblem("127.0.0.1") == nil)
        #expect(
            await outcome(strict, "https://%31%32%37.0.0.1/") == .unsupportedURL(reason: "the host is percent-encoded or names an interface")
        )
    }
}
