import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyOAuthClient
import Testing

/// The production transport against a small local server: redirects are not followed, answers are bounded in size
/// and time, and the policy still applies.
@Suite struct AsyncHTTPClientTransportTests {
    func withServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/ok") { _, _ in "{\"fine\":true}" }
        router.get("/redirect") { _, _ in Response(status: .found, headers: [.location: "/ok"]) }
        router.get("/big") { _, _ in String(repeating: "x", count: 2 << 20) }
        router.get("/slow") { _, _ -> String in
            try? await Task.sleep(for: .seconds(5))
            return "late"
        }
        router.post("/echo") { request, _ -> String in
            let agent = request.headers[.userAgent] ?? ""
            let body = try await request.body.collect(upTo: 1024)
            return "\(agent)|\(String(buffer: body))"
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body(client.port!)
        }
    }

    func transport(timeout: Duration = .seconds(5)) -> AsyncHTTPClientTransport {
        AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: true, maxResponseBytes: 1 << 20, timeout: timeout))
    }

    @Test func redirectsAreNotFollowedAndLimitsHold() async throws {
        try await withServer { port in
            let transport = transport(timeout: .milliseconds(2000))
            do {
                let base = "http://127.0.0.1:\(port)"
                let ok = try await transport.send(OutboundRequest(method: "GET", url: URL(string: "\(base)/ok")!))
                #expect(ok.status == 200)
                #expect(String(data: ok.body, encoding: .utf8) == "{\"fine\":true}")

                let redirect = try await transport.send(OutboundRequest(method: "GET", url: URL(string: "\(base)/redirect")!))
                #expect(redirect.status == 302)
                #expect(redirect.header("Location") == "/ok")
                #expect(redirect.body.isEmpty)

                let echo = try await transport.send(
                    OutboundRequest(
                        method: "POST",
                        url: URL(string: "\(base)/echo")!,
                        headers: [(name: "User-Agent", value: "spoofed")],
                        body: Data("a=1".utf8)
                    )
                )
                #expect(String(data: echo.body, encoding: .utf8) == "Latchkey|a=1")

                await #expect(throws: OutboundError.responseTooLarge(host: "127.0.0.1", limit: 1 << 20)) {
                    try await transport.send(OutboundRequest(method: "GET", url: URL(string: "\(base)/big")!))
                }
                await #expect(throws: OutboundError.timedOut(host: "127.0.0.1")) {
                    try await transport.send(OutboundRequest(method: "GET", url: URL(string: "\(base)/slow")!))
                }
            } catch {
                try await transport.shutdown()
                throw error
            }
            try await transport.shutdown()
        }
    }

    @Test func thePolicyIsCheckedBeforeConnecting() async throws {
        let logs = LogCapture()
        let transport = AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: false), logger: logs.logger())
        await #expect(throws: OutboundError.blockedAddress(host: "127.0.0.1", reason: "it is a loopback address (this machine)")) {
            try await transport.send(OutboundRequest(method: "GET", url: URL(string: "https://127.0.0.1:1/?token=T0CANARY")!))
        }
        #expect(logs.text.contains("outbound call refused by the policy") && logs.text.contains("it is a loopback address (this machine)"))
        #expect(!logs.text.contains("T0CANARY"))
        try await transport.shutdown()
        try await transport.shutdown()
    }

    @Test func aRefusedConnectionIsUnreachable() async throws {
        let transport = transport()
        // AsyncHTTPClient retries refused connections until the deadline, so on a loaded machine the deadline can
        // be what ends it; either way the caller hears that the host could not be reached, never a crash.
        await #expect {
            try await transport.send(OutboundRequest(method: "GET", url: URL(string: "http://127.0.0.1:1/")!))
        } throws: { error in
            error as? OutboundError == .unreachable(host: "127.0.0.1") || error as? OutboundError == .timedOut(host: "127.0.0.1")
        }
        try await transport.shutdown()
    }
}
