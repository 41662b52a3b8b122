import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import Testing

enum Fixtures {
    static let catalog: ProviderCatalog = {
        do {
            return try ProviderCatalog.bundled()
        } catch {
            fatalError("the bundled catalog does not load: \(error)")
        }
    }()

    static func provider(_ id: String) throws -> Provider {
        try #require(catalog.provider(id: id), "no provider \(id)")
    }

    static func endpoints(_ provider: Provider, templateValues: [String: String] = [:]) throws -> OAuthEndpoints {
        try EndpointResolver.resolve(provider: provider, settings: [:], templateValues: templateValues)
    }

    static let clock = TestClock()

    static func credentials(_ provider: Provider, secret: String? = "client-secret") -> OAuthClientCredentials {
        OAuthClientCredentials(clientID: "client-id", clientSecret: secret, method: provider.oauth?.clientAuth ?? .clientSecretBasic)
    }
}

/// Answers every request with the next queued response and records what was sent.
actor StubTransport: HTTPTransport {
    private var responses: [Result<OutboundResponse, OutboundError>]
    private(set) var requests: [OutboundRequest] = []

    init(_ responses: [OutboundResponse]) {
        self.responses = responses.map { .success($0) }
    }

    init(failing error: OutboundError) {
        self.responses = [.failure(error)]
    }

    static func json(_ body: String) -> StubTransport {
        json(200, body)
    }

    static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> StubTransport {
        StubTransport([
            OutboundResponse(status: status, headers: [(name: "Content-Type", value: "application/json")] + headers, body: Data(body.utf8))
        ])
    }

    static func body(_ status: Int, _ body: String, contentType: String) -> StubTransport {
        StubTransport([OutboundResponse(status: status, headers: [(name: "Content-Type", value: contentType)], body: Data(body.utf8))])
    }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        requests.append(request)
        guard !responses.isEmpty else { return OutboundResponse(status: 404) }
        switch responses.removeFirst() {
        case .success(let response): return response
        case .failure(let error): throw error
        }
    }

    var lastRequest: OutboundRequest? { requests.last }
}

/// Runs `body` and returns the OAuthClientError it throws, recording an issue when it throws nothing or something else.
func oauthError<T>(_ body: () async throws(OAuthClientError) -> T) async -> OAuthClientError? {
    do {
        let value = try await body()
        Issue.record("expected an error, got \(value)")
        return nil
    } catch {
        return error
    }
}
