import Foundation
import LatchkeyAuthServer
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyTesting
import Testing

@Suite struct ClientMetadataDocumentFetcherTests {
    static let clientID = "https://app.example/oauth/client.json"

    let clock = TestClock()
    let network = FakeNetwork()

    func fetcher(
        allowPrivateNetwork: Bool = false,
        resolver: [String: String] = ["app.example": "93.184.215.14"]
    ) throws
        -> ClientMetadataDocumentFetcher
    {
        var table: [String: [IPAddress]] = [:]
        for (name, address) in resolver { table[name] = [try #require(AddressClassifier.literal(address))] }
        let policy = OutboundPolicy(allowPrivateNetwork: allowPrivateNetwork, resolver: .fixed(table))
        return ClientMetadataDocumentFetcher(transport: network, policy: policy, clock: clock)
    }

    func serve(_ host: String, _ document: MetadataDocumentHost) async {
        await network.route(host: host, to: document)
    }

    @Test func aValidDocumentIsFetchedWithOneGETAndReadIntoItsFields() async throws {
        await serve("app.example", MetadataDocumentHost(json: MetadataDocumentHost.document(Self.clientID, extra: #""client_name": "Example App""#)))
        let document = try await fetcher().document(for: Self.clientID)
        #expect(
            document
                == ClientMetadataDocument(clientID: Self.clientID, clientName: "Example App", redirectURIs: ["https://app.example/callback"])
        )
        let requests = await network.requests
        #expect(requests.count == 1)
        #expect(requests.first?.method == "GET")
        #expect(requests.first?.url.absoluteString == Self.clientID)
        #expect(requests.first?.header("Accept") == "application/json")
    }

    @Test func aPrivateAddressIsRefusedBeforeAnyConnectionIsAttempted() async throws {
        let clientID = "https://10.0.0.5/client.json"
        await serve("10.0.0.5", MetadataDocumentHost(json: MetadataDocumentHost.document(clientID)))
        let error = await metadataDocumentRefusal { try await fetcher().document(for: clientID) }
        #expect(error == .blockedAddress(host: "10.0.0.5", reason: "it is a private address"))
        #expect(error?.message.contains("--allow-private-network") == true)
        #expect(await network.requests.isEmpty)
    }

    @Test func aNameThatResolvesToThisMachineIsRefusedBeforeAnyConnectionIsAttempted() async throws {
        let clientID = "https://intranet.example/client.json"
        await serve("intranet.example", MetadataDocumentHost(json: MetadataDocumentHost.document(clientID)))
        let fetcher = try fetcher(resolver: ["intranet.example": "127.0.0.1"])
        let error = await metadataDocumentRefusal { try await fetcher.document(for: clientID) }
        #expect(error == .blockedAddress(host: "intranet.example", reason: "it resolves to 127.0.0.1, a loopback address (this machine)"))
        #expect(await network.requests.isEmpty)
    }

    @Test func plainHTTPToLoopbackIsFetchedOnlyWhenPrivateNetworksAreAllowed() async throws {
        let clientID = "http://127.0.0.1:8123/client.json"
        await serve("127.0.0.1", MetadataDocumentHost(json: MetadataDocumentHost.document(clientID, redirect: "http://127.0.0.1:8123/callback")))
        let refused = await metadataDocumentRefusal { try await fetcher().document(for: clientID) }
        #expect(refused?.message.contains("--allow-private-network") == true)
        #expect(await network.requests.isEmpty)

        let document = try await fetcher(allowPrivateNetwork: true).document(for: clientID)
        #expect(document.redirectURIs == ["http://127.0.0.1:8123/callback"])
        #expect(await network.requests.count == 1)
    }

    @Test func aRedirectIsNotFollowed() async throws {
        await serve("app.example", MetadataDocumentHost(status: 302, json: "", headers: [(name: "Location", value: "https://10.0.0.5/c.json")]))
        let error = await metadataDocumentRefusal { try await fetcher().document(for: Self.clientID) }
        #expect(error == .unexpectedStatus(302))
        #expect(error?.message.contains("redirect") == true)
        #expect(await network.requests.count == 1)
    }

    @Test func aMissingDocumentIsRefused() async throws {
        await serve("app.example", MetadataDocumentHost(status: 404, json: #"{"error": "not found"}"#))
        #expect(await metadataDocumentRefusal { try await fetcher().document(for: Self.clientID) } == .unexpectedStatus(404))
    }

    @Test func aDocumentLargerThanFiveKiBIsRefused() async throws {
        let padding = String(repeating: "x", count: 6000)
        await serve("app.example", MetadataDocumentHost(json: MetadataDocumentHost.document(Self.clientID, extra: #""client_name": "\#(padding)""#)))
        let error = await metadataDocumentRefusal { try await fetcher().document(for: Self.clientID) }
        #expect(error == .tooLarge(limit: 5120))
    }

    @Test func anAnnouncedLengthOverTheLimitIsRefusedUnread() async throws {
        let body = MetadataDocumentHost.document(Self.clientID)
        await serve("app.example", MetadataDocumentHost(json: body, headers: [(name: "Content-Length", value: "999999")]))
        #expect(await metadataDocumentRefusal { try await fetcher().document(for: Self.clientID) } == .tooLarge(limit: 5120))
    }

    @Test func aHostThatDoesNotAnswerWithinTheTimeLimitTimesOut() async throws {
        await network.route(host: "app.example", to: SilentMetadataDocumentHost())
        let fetcher = try fetcher()
        async let outcome = metadataDocumentRefusal { try await fetcher.document(for: Self.clientID) }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: 5)
        let error = await outcome
        #expect(error == .timedOut(host: "app.example", seconds: 5))
        #expect(error?.isTransient == true)
    }

    @Test func anUnreachableHostIsATransientFailure() async throws {
        let error = await metadataDocumentRefusal { try await fetcher().document(for: Self.clientID) }
        #expect(error == .unreachable(host: "app.example"))
        #expect(error?.isTransient == true)
    }

    @Test func anInvalidClientIDIsRefusedWithoutAnyRequest() async throws {
        let error = await metadataDocumentRefusal { try await fetcher().document(for: "https://app.example/a/../client.json") }
        #expect(error?.message.contains("\"..\"") == true)
        #expect(await network.requests.isEmpty)
    }

    @Test func aDocumentIsReusedForItsMaxAgeThenFetchedAgain() async throws {
        let host = MetadataDocumentHost(
            json: MetadataDocumentHost.document(Self.clientID),
            headers: [(name: "Cache-Control", value: "public, max-age=600")]
        )
        await serve("app.example", host)
        let fetcher = try fetcher()
        _ = try await fetcher.document(for: Self.clientID)
        clock.advance(by: 599)
        _ = try await fetcher.document(for: Self.clientID)
        #expect(await network.requests.count == 1)

        await host.set(json: MetadataDocumentHost.document(Self.clientID, extra: #""client_name": "Renamed""#))
        clock.advance(by: 2)
        #expect(try await fetcher.document(for: Self.clientID).clientName == "Renamed")
        #expect(await network.requests.count == 2)
    }

    @Test func noStoreIsFetchedEveryTime() async throws {
        await serve(
            "app.example",
            MetadataDocumentHost(json: MetadataDocumentHost.document(Self.clientID), headers: [(name: "Cache-Control", value: "no-store")])
        )
        let fetcher = try fetcher()
        _ = try await fetcher.document(for: Self.clientID)
        _ = try await fetcher.document(for: Self.clientID)
        #expect(await network.requests.count == 2)
    }

    @Test func aLongMaxAgeIsCappedAtAnHour() async throws {
        await serve(
            "app.example",
            MetadataDocumentHost(json: MetadataDocumentHost.document(Self.clientID), headers: [(name: "Cache-Control", value: "max-age=86400")])
        )
        let fetcher = try fetcher()
        _ = try await fetcher.document(for: Self.clientID)
        clock.advance(by: 3599)
        _ = try await fetcher.document(for: Self.clientID)
        #expect(await network.requests.count == 1)
        clock.advance(by: 2)
        _ = try await fetcher.document(for: Self.clientID)
        #expect(await network.requests.count == 2)
    }

    @Test func withoutCachingHeadersADocumentIsKeptFiveMinutes() async throws {
        await serve("app.example", MetadataDocumentHost(json: MetadataDocumentHost.document(Self.clientID)))
        let fetcher = try fetcher()
        _ = try await fetcher.document(for: Self.clientID)
        clock.advance(by: 299)
        _ = try await fetcher.document(for: Self.clientID)
        #expect(await network.requests.count == 1)
        clock.advance(by: 2)
        _ = try await fetcher.document(for: Self.clientID)
        #expect(await network.requests.count == 2)
    }

    @Test func aRefusedDocumentIsNotKept() async throws {
        let host = MetadataDocumentHost(json: MetadataDocumentHost.document("https://other.example/client.json"))
        await serve("app.example", host)
        let fetcher = try fetcher()
        #expect(await metadataDocumentRefusal { try await fetcher.document(for: Self.clientID) } != nil)
        await host.set(json: MetadataDocumentHost.document(Self.clientID))
        #expect(try await fetcher.document(for: Self.clientID).clientID == Self.clientID)
        #expect(await network.requests.count == 2)
    }
}

/// Serves one answer (a client's metadata document) to every request.
actor MetadataDocumentHost: HTTPTransport {
    private var response: OutboundResponse

    init(status: Int = 200, json: String, headers: [(name: String, value: String)] = []) {
        response = OutboundResponse(
            status: status,
            headers: [(name: "Content-Type", value: "application/json")] + headers,
            body: Data(json.utf8)
        )
    }

    /// Answers `json` from now on, with the same status and headers.
    func set(json: String) {
        response.body = Data(json.utf8)
    }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        response
    }

    /// A minimal valid document for `clientID`, with one more member when `extra` is given (`"name": value`).
    static func document(_ clientID: String, redirect: String = "https://app.example/callback", extra: String? = nil) -> String {
        var members = [#""client_id": "\#(clientID)""#, #""redirect_uris": ["\#(redirect)"]"#]
        if let extra { members.append(extra) }
        return "{" + members.joined(separator: ", ") + "}"
    }
}

/// A host that accepts the connection and never answers.
struct SilentMetadataDocumentHost: HTTPTransport {
    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await Task.sleep(for: .seconds(3600))
        throw OutboundError.timedOut(host: request.url.host ?? "")
    }
}

/// The ClientMetadataDocumentError `body` throws; records an issue when it returns or throws something else.
func metadataDocumentRefusal(_ body: () async throws -> ClientMetadataDocument) async -> ClientMetadataDocumentError? {
    do {
        let document = try await body()
        Issue.record("expected a refusal, got \(document)")
        return nil
    } catch let error as ClientMetadataDocumentError {
        return error
    } catch {
        Issue.record("expected a ClientMetadataDocumentError, got \(error)")
        return nil
    }
}
