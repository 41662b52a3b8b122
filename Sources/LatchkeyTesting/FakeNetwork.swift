import Foundation
public import LatchkeyOAuthClient

/// Several fakes behind one ``HTTPTransport``, routed by host; an unknown host is unreachable.
public actor FakeNetwork: HTTPTransport {
    private var routes: [String: any HTTPTransport] = [:]
    /// Every request sent through the network, in order.
    public private(set) var requests: [OutboundRequest] = []

    public init(_ fakes: [FakeProvider] = []) {
        for fake in fakes {
            for host in fake.hosts { routes[host] = fake }
        }
    }

    /// Routes every host of `fake` to it.
    public func add(_ fake: FakeProvider) {
        for host in fake.hosts { routes[host] = fake }
    }

    /// Routes `host` to any transport.
    public func route(host: String, to transport: any HTTPTransport) {
        routes[host.lowercased()] = transport
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        requests.append(request)
        let host = request.url.host?.lowercased() ?? ""
        guard let transport = routes[host] else { throw OutboundError.unreachable(host: host) }
        return try await transport.send(request)
    }
}
