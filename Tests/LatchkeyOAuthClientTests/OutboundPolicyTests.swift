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
        "https://api.localhost/", "https://localhost./", "http://127.0.0.1:8080/", "http://localhost:9000/x",
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
        #expect(await outcome(strict, "https://10.0.0.1/path?token=abc") == .blockedAddress(host: "10.0.0.1"))
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
}
