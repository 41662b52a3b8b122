import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Webhook endpoints pass the one address classifier at registration and the outbound policy at every send.
@Suite("Webhook URL policy")
struct WebhookURLPolicyTests {
    static func put(_ client: any TestClientProtocol, _ fixture: TestFixture, url: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/webhooks", method: .put, headers: fixture.headers, body: try body(["url": url]))
    }

    static func fieldMessage(_ response: TestResponse) -> String {
        let error = (try? response.json)?["error"] as? [String: Any]
        return ((error?["fields"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
    }

    /// Every literal form of a non-public address, and every name of this machine, is a 400 on `url` saying why.
    @Test func everyFormOfAPrivateAddressIsRefusedAtRegistration() async throws {
        let cases: [(url: String, reason: String)] = [
            ("https://0x7f000001/hook", "0x7f000001 is refused because it is a loopback address (this machine)"),
            ("https://2130706433/hook", "2130706433 is refused because it is a loopback address (this machine)"),
            ("https://0177.0.0.1/hook", "0177.0.0.1 is refused because it is a loopback address (this machine)"),
            ("https://127.1/hook", "127.1 is refused because it is a loopback address (this machine)"),
            ("https://0.0.0.0/hook", "it is an unspecified address (0.0.0.0/8, this machine)"),
            ("https://[::ffff:127.0.0.1]/hook", "it is an IPv4-mapped address carrying 127.0.0.1, a loopback address (this machine)"),
            ("https://[::ffff:a9fe:a9fe]/latest", "it is an IPv4-mapped address carrying 169.254.169.254, a link-local address"),
            ("https://[64:ff9b::a00:5]/hook", "it is a NAT64 address carrying 10.0.0.5, a private address"),
            ("https://[64:ff9b:1::a00:5]/hook", "it is a local-use NAT64 address (64:ff9b:1::/48)"),
            ("https://[2002:c0a8:101::1]/hook", "it is a 6to4 address carrying 192.168.1.1, a private address"),
            ("https://[2001:0:4136:e378:8000:63bf:f5ff:fffa]/hook", "it is a Teredo address carrying 10.0.0.5, a private address"),
            ("https://198.18.0.1/hook", "it is a benchmarking address (198.18.0.0/15)"),
            ("https://100.64.0.1/hook", "it is a shared carrier-grade NAT address (100.64.0.0/10)"),
            ("https://169.254.169.254/latest", "it is a link-local address"),
            ("https://[fe80::1]/hook", "it is a link-local address"),
            ("https://[fd00::1]/hook", "it is a private address (unique local, fc00::/7)"),
            ("https://224.0.0.1/hook", "it is a multicast address"),
            ("https://255.255.255.255/hook", "it is the broadcast address"),
            ("https://192.0.2.1/hook", "it is a documentation address"),
            ("https://localhost/hook", "it names this machine"),
            ("https://localhost.localdomain/hook", "it names this machine"),
            ("https://hooks.localhost/hook", "it names this machine"),
            ("https://localhost./hook", "it names this machine"),
            ("https://0x7f000001./hook", "it is a loopback address (this machine)"),
        ]
        try await TestApp.with(.sqlite) { client, fixture in
            for (url, reason) in cases {
                let answer = try await Self.put(client, fixture, url: url)
                #expect(answer.status == .badRequest, "\(url)")
                #expect(answer.errorFields == ["url"], "\(url)")
                let message = Self.fieldMessage(answer)
                #expect(message.contains(reason), "\(url): \(message)")
                #expect(message.contains("--allow-private-network"), "\(url)")
            }
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .get, headers: fixture.headers).status == .notFound)
            // Public addresses in the same forms pass.
            for url in ["https://0x08080808/hook", "https://8.8.8.8/hook", "https://[2606:4700::1]/hook", "https://hooks.example./hook"] {
                #expect(try await Self.put(client, fixture, url: url).status.code < 300, "\(url)")
            }
        }
    }

    /// A raw CR/LF (or any control character or whitespace) was stored and echoed; it is refused, and nothing is stored.
    @Test func controlCharactersAndWhitespaceAreRefused() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            for url in [
                "https://hooks.example/in\r\nX-Injected: 1", "https://hooks.example/in\n", "https://hooks.example/a b", "https://hooks.example/\t",
                "https://hooks.example/\u{0}", "https://hooks.example/\u{7f}", "https://hooks.example/\u{200b}", " https://hooks.example/in",
                "https://hooks.example\r\n.evil/in",
            ] {
                let answer = try await Self.put(client, fixture, url: url)
                #expect(answer.status == .badRequest, "\(url.debugDescription)")
                #expect(answer.errorFields == ["url"], "\(url.debugDescription)")
                #expect(Self.fieldMessage(answer).contains("must not contain control characters"), "\(url.debugDescription)")
                #expect(!answer.text.contains("X-Injected"))
            }
            #expect(try await client.execute(uri: "/api/v1/webhooks", method: .get, headers: fixture.headers).status == .notFound)
            let host = try await Self.put(client, fixture, url: "https://hooks%2eexample/in")
            #expect(host.status == .badRequest && host.errorFields == ["url"])
        }
    }

    /// A name that resolves to a private address passes registration (DNS can change) but is refused before any
    /// connection at send time: the delivery is dead-lettered at once with the policy's words, not retried, and a
    /// warning names the host and the reason.
    @Test func aDeliveryToAPrivateAddressIsRefusedBeforeConnecting() async throws {
        let clock = TestClock()
        try await TestApp.with(.sqlite, clock: clock) { client, fixture in
            let answer = try await Self.put(client, fixture, url: "https://hooks.internal.example/latchkey/T0CANARYPATH")
            #expect(answer.status == .created)
            try await fixture.runtime.webhooks.enqueue(type: "credential.revoked", tenantID: fixture.tenantID, data: ["credentialId": "c1"])
            let receiver = FakeWebhookReceiver()
            let resolver = NameResolver.fixed(["hooks.internal.example": [try #require(AddressClassifier.literal("10.0.0.5"))]])
            let transport = PolicyCheckedTransport(
                policy: OutboundPolicy(allowPrivateNetwork: false, resolver: resolver),
                logger: fixture.logs.logger(),
                wrapping: receiver
            )
            let service = fixture.runtime.webhookDeliveryService(transport: transport)
            #expect(try await service.runOnce() == 1)
            #expect(await receiver.requests.isEmpty)

            let listed = try await client.execute(uri: "/api/v1/webhooks/deliveries", method: .get, headers: fixture.headers)
            let item = try #require((try listed.json["items"] as? [[String: Any]])?.first)
            #expect(item["status"] as? String == "dead")
            #expect(
                item["lastError"] as? String
                    == "Latchkey did not call hooks.internal.example: it resolves to 10.0.0.5, a private address. Start the server with "
                    + "--allow-private-network to allow calls to this machine's network."
            )
            clock.advance(by: 3600)
            #expect(try await service.runOnce() == 0)

            let logs = fixture.logs.text
            #expect(logs.contains("outbound call refused by the policy"))
            #expect(logs.contains("hooks.internal.example") && logs.contains("it resolves to 10.0.0.5, a private address"))
            #expect(logs.contains("webhook delivery refused by the outbound policy"))
            #expect(!logs.contains("T0CANARYPATH"))
        }
    }
}
