public import Logging

/// Any transport behind the ``OutboundPolicy``: the policy is enforced (and a refusal logged) before the request is
/// handed on, so a refused URL never reaches the transport. ``AsyncHTTPClientTransport`` enforces the same policy
/// itself; this puts it in front of another transport (a fake network in tests, a proxy).
public struct PolicyCheckedTransport: HTTPTransport {
    public let policy: OutboundPolicy
    let inner: any HTTPTransport
    let logger: Logger

    public init(policy: OutboundPolicy, logger: Logger, wrapping inner: any HTTPTransport) {
        self.policy = policy
        self.logger = logger
        self.inner = inner
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await policy.enforce(request.url, logger: logger)
        return try await inner.send(request)
    }

    public func stream(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse {
        try await policy.enforce(request.url, logger: logger)
        return try await inner.stream(request, body: body)
    }
}
