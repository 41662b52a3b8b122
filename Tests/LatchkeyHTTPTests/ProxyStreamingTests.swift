import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import NIOCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The proxy relaying large bodies both ways between a live Latchkey and a live upstream on 127.0.0.1, through the
/// production transport: answers and uploads cross in pieces (the relay never collects a body: `ProxyController`
/// hands the provider's body stream to the response writer, and the request body stream to the client), within the
/// proxy's size limits and the outbound timeouts.
@Suite("Proxy streaming")
struct ProxyStreamingTests {
    static let pieceSize = 64 << 10

    /// Piece `index` of a test body: its index in the first 8 bytes, then a fill that changes from piece to piece,
    /// so that a lost, repeated or reordered piece shows.
    static func piece(_ index: Int, size: Int = pieceSize) -> ByteBuffer {
        var buffer = ByteBuffer(repeating: UInt8(truncatingIfNeeded: index % 251), count: size)
        if size >= 8 { buffer.setInteger(UInt64(index), at: 0) }
        return buffer
    }

    /// `bytes` bytes made of consecutive pieces.
    static func pieces(_ bytes: Int) -> [ByteBuffer] {
        stride(from: 0, to: bytes, by: pieceSize).enumerated().map { index, offset in piece(index, size: min(pieceSize, bytes - offset)) }
    }

    /// Whether `body` is exactly `bytes` bytes of consecutive pieces.
    static func isIntact(_ body: ByteBuffer, bytes: Int) -> Bool {
        guard body.readableBytes == bytes else { return false }
        var offset = body.readerIndex
        for expected in pieces(bytes) {
            guard body.getSlice(at: offset, length: expected.readableBytes) == expected else { return false }
            offset += expected.readableBytes
        }
        return true
    }

    /// A provider API on 127.0.0.1: `/v1/download?bytes=N` (with its length), `/v1/chunked?bytes=N` (without),
    /// `/v1/upload` (answers `bytes=N intact=… length=…` about what it read), `/v1/late` (no answer for 3 s) and
    /// `/v1/stall` (one piece, then a 3 s pause).
    static func withUpstream(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.get("/v1/download") { request, _ -> Response in
            let bytes = request.uri.queryParameters.get("bytes", as: Int.self) ?? 0
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: Self.stream(bytes, announced: true))
        }
        router.get("/v1/chunked") { request, _ -> Response in
            let bytes = request.uri.queryParameters.get("bytes", as: Int.self) ?? 0
            return Response(status: .ok, body: Self.stream(bytes, announced: false))
        }
        router.post("/v1/upload") { request, _ -> String in
            let length = request.headers[.contentLength] ?? "none"
            let received = try await request.body.collect(upTo: 64 << 20)
            return "bytes=\(received.readableBytes) intact=\(Self.isIntact(received, bytes: received.readableBytes)) length=\(length)"
        }
        router.get("/v1/late") { _, _ -> String in
            try? await Task.sleep(for: .seconds(3))
            return "late"
        }
        router.get("/v1/stall") { _, _ -> Response in
            Response(
                status: .ok,
                body: ResponseBody(contentLength: 2 * Self.pieceSize) { writer in
                    try await writer.write(Self.piece(0))
                    try? await Task.sleep(for: .seconds(3))
                    try await writer.write(Self.piece(1))
                    try await writer.finish(nil)
                }
            )
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)/v1") }
    }

    static func stream(_ bytes: Int, announced: Bool) -> ResponseBody {
        ResponseBody(contentLength: announced ? bytes : nil) { writer in
            for piece in Self.pieces(bytes) { try await writer.write(piece) }
            try await writer.finish(nil)
        }
    }

    /// A live Latchkey with the production transport (outbound `timeout`), an integration whose API base is the
    /// upstream, and an imported credential for `alice`.
    static func withProxy(
        _ kind: TestDatabases.Kind,
        timeout: Duration = .seconds(10),
        configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in },
        _ run: @Sendable (any TestClientProtocol, HTTPFields) async throws -> Void
    ) async throws {
        try await withUpstream { base in
            let transport = AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: true, timeout: timeout))
            do {
                try await TestApp.with(kind, framework: .live, transport: transport, configure: configure) { client, fixture in
                    _ = try await fixture.runtime.integrations.create(
                        .init(
                            key: "local-api",
                            provider: "oauth2",
                            clientID: "c",
                            clientSecret: "s",
                            scopes: ["read"],
                            settings: ["authorizationURL": base + "/authorize", "tokenURL": base + "/token", "apiBaseURL": base]
                        ),
                        tenantID: fixture.tenantID,
                        actor: .cli
                    )
                    let imported = try await client.execute(
                        uri: "/api/v1/credentials",
                        method: .post,
                        headers: fixture.headers,
                        body: try body([
                            "integration": "local-api", "type": "oauth2", "accessToken": "streaming-secret", "externalUserId": "alice",
                            "expiresAt": "2099-01-01T00:00:00Z",
                        ])
                    )
                    #expect(imported.status == .created)
                    try await run(client, [.authorization: fixture.bearer, HTTPField.Name("Latchkey-End-User")!: "alice"])
                }
            } catch {
                try await transport.shutdown()
                throw error
            }
            try await transport.shutdown()
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aFiftyMegabyteAnswerAndASixMegabyteUploadCrossWhole(kind: TestDatabases.Kind) async throws {
        try await Self.withProxy(kind) { client, headers in
            let bytes = 50 << 20
            // Read with URLSession: the test client copies what it has received at every piece, which at 50 MB
            // costs more than the relay.
            var request = URLRequest(
                url: URL(string: "http://127.0.0.1:\(try #require(client.port))/api/v1/proxy/local-api/download?bytes=\(bytes)")!
            )
            for field in headers { request.setValue(field.value, forHTTPHeaderField: field.name.rawName) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let download = try #require(response as? HTTPURLResponse)
            #expect(download.statusCode == 200)
            #expect(download.value(forHTTPHeaderField: "Content-Length") == String(bytes))
            #expect(download.value(forHTTPHeaderField: "Content-Type") == "application/octet-stream")
            #expect(Self.isIntact(ByteBuffer(bytes: data), bytes: bytes))

            // Past the 1 MiB a body is held up to: relayed as it arrives, with its length.
            let upload = 6 << 20
            var sent = ByteBuffer()
            for piece in Self.pieces(upload) { sent.writeImmutableBuffer(piece) }
            let uploaded = try await client.execute(uri: "/api/v1/proxy/local-api/upload", method: .post, headers: headers, body: sent)
            #expect(uploaded.status == .ok)
            #expect(uploaded.text == "bytes=\(upload) intact=true length=\(upload)")
        }
    }

    @Test func answersOverTheDownloadLimitAreRefusedOrCutOff() async throws {
        let smallDownloads: @Sendable (inout ServerConfiguration) -> Void = { $0.proxyMaxDownloadBytes = 1 << 20 }
        try await Self.withProxy(.sqlite, configure: smallDownloads) { client, headers in
            // Announced larger than the limit: refused before anything is relayed.
            let announced = try await client.execute(uri: "/api/v1/proxy/local-api/download?bytes=\(2 << 20)", method: .get, headers: headers)
            #expect(announced.status == .badGateway)
            #expect(announced.errorCode == "provider_unreachable")
            #expect(announced.text.contains("limit of \(1 << 20) bytes"))
            // Within the limit, announced or not: whole.
            let small = try await client.execute(uri: "/api/v1/proxy/local-api/chunked?bytes=\(1 << 20)", method: .get, headers: headers)
            #expect(small.status == .ok)
            #expect(Self.isIntact(small.body, bytes: 1 << 20))
            // Not announced and larger: relayed up to the limit, then the connection is closed (last: the test
            // client does not reconnect), so the caller never takes a shortened body for a whole one.
            await #expect(throws: (any Error).self) {
                let cut = try await client.execute(uri: "/api/v1/proxy/local-api/chunked?bytes=\(2 << 20)", method: .get, headers: headers)
                if cut.body.readableBytes < 2 << 20 { throw TestFailure("shortened to \(cut.body.readableBytes) bytes") }
            }
        }
    }

    @Test func aProviderSlowToAnswerIsUnreachableAndOneThatStallsMidAnswerIsCutOff() async throws {
        try await Self.withProxy(.sqlite, timeout: .milliseconds(500)) { client, headers in
            let late = try await client.execute(uri: "/api/v1/proxy/local-api/late", method: .get, headers: headers)
            #expect(late.status == .badGateway)
            #expect(late.errorCode == "provider_unreachable")
            #expect(late.text.contains("did not answer in time"))
            await #expect(throws: (any Error).self) {
                let stalled = try await client.execute(uri: "/api/v1/proxy/local-api/stall", method: .get, headers: headers)
                if stalled.body.readableBytes < 2 * Self.pieceSize { throw TestFailure("shortened to \(stalled.body.readableBytes) bytes") }
            }
        }
    }

    @Test func theLimitsAreSettingsInMebibytes() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.proxyMaxUploadBytes == 100 << 20 && configuration.proxyMaxDownloadBytes == 1 << 30)
        try configuration.applyEnvironment(["LATCHKEY_PROXY_MAX_UPLOAD_MB": "5", "LATCHKEY_PROXY_MAX_DOWNLOAD_MB": "2048"])
        #expect(configuration.proxyMaxUploadBytes == 5 << 20 && configuration.proxyMaxDownloadBytes == 2 << 30)
        for name in ["LATCHKEY_PROXY_MAX_UPLOAD_MB", "LATCHKEY_PROXY_MAX_DOWNLOAD_MB"] {
            for value in ["0", "five", "-1", "1048577"] {
                #expect(throws: ConfigurationError.self) { try configuration.applyEnvironment([name: value]) }
            }
        }
    }
}
