import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization

/// The production transport: AsyncHTTPClient with redirects off, the ``OutboundPolicy`` checked before every request
/// (before any connection), and `User-Agent: Latchkey`. ``send(_:)`` cuts the answer off past
/// ``OutboundPolicy/maxResponseBytes`` and bounds the whole exchange by ``OutboundPolicy/timeout``;
/// ``stream(_:body:)`` bounds connecting and the answer's status and headers by that timeout, and then any pause in
/// the answer's body by it too (an idle-read timeout), however long the whole body takes.
///
/// It owns an `HTTPClient`, which must be shut down: run it in the application's `ServiceGroup` (``run()`` waits for
/// graceful shutdown, then shuts the client down), or call ``shutdown()``.
public final class AsyncHTTPClientTransport: HTTPTransport, Service {
    public let policy: OutboundPolicy
    private let logger: Logger
    private let client: HTTPClient
    private let isShutDown = Mutex(false)

    /// `logger` gets a warning for every call the policy refuses (host and reason, never the path or query).
    public init(policy: OutboundPolicy, logger: Logger = Logger(label: "latchkey.outbound")) {
        self.policy = policy
        self.logger = logger
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        let timeout = TimeAmount.nanoseconds(Self.nanoseconds(policy.timeout))
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: timeout, read: timeout)
        // The client's own spans record the full URL, query included (codes, state): ``OutboundTracing`` makes the span.
        configuration.tracing.tracer = nil
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await OutboundTracing.traced(request, status: \.status) { try await exchange(request) }
    }

    public func stream(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse {
        try await OutboundTracing.traced(request, status: \.status) { try await streamed(request, body: body) }
    }

    private func exchange(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await policy.enforce(request.url, logger: logger)
        let host = request.url.host ?? "unknown host"
        let timeout = policy.timeout
        do {
            return try await withThrowingTaskGroup(of: OutboundResponse.self) { group in
                group.addTask { try await self.perform(request, host: host) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw OutboundError.timedOut(host: host)
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw OutboundError.timedOut(host: host) }
                return first
            }
        } catch {
            throw Self.outboundError(error, host: host)
        }
    }

    private func streamed(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse {
        try await policy.enforce(request.url, logger: logger)
        let host = request.url.host ?? "unknown host"
        var outbound = Self.prepared(request)
        if let body { outbound.body = .stream(body, length: body.length.map { .known(Int64($0)) } ?? .unknown) }
        do {
            // The deadline covers connecting and the answer's head; the client's read timeout then bounds every pause
            // in the body.
            let response = try await client.execute(outbound, deadline: .now() + .nanoseconds(Self.nanoseconds(policy.timeout)))
            return OutboundStreamedResponse(
                status: Int(response.status.code),
                headers: response.headers.map { (name: $0.name, value: $0.value) },
                body: OutboundByteStream(response.body, length: response.headers.first(name: "Content-Length").flatMap { Int($0) })
                    .mappingErrors { Self.outboundError($0, host: host) }
            )
        } catch {
            throw Self.outboundError(error, host: host)
        }
    }

    /// What a failed exchange with `host` is called: a timeout, or unreachable; cancellation stays cancellation.
    static func outboundError(_ error: any Error, host: String) -> any Error {
        switch error {
        case let error as OutboundError:
            return error
        case let error as HTTPClientError:
            if [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout].contains(error) {
                return OutboundError.timedOut(host: host)
            }
            return OutboundError.unreachable(host: host)
        case is CancellationError:
            return error
        default:
            return OutboundError.unreachable(host: host)
        }
    }

    private static func prepared(_ request: OutboundRequest) -> HTTPClientRequest {
        var outbound = HTTPClientRequest(url: request.url.absoluteString)
        outbound.method = HTTPMethod(rawValue: request.method)
        for header in request.headers where header.name.caseInsensitiveCompare("User-Agent") != .orderedSame {
            outbound.headers.add(name: header.name, value: header.value)
        }
        outbound.headers.replaceOrAdd(name: "User-Agent", value: "Latchkey")
        if let body = request.body { outbound.body = .bytes(ByteBuffer(bytes: body)) }
        return outbound
    }

    private func perform(_ request: OutboundRequest, host: String) async throws -> OutboundResponse {
        let outbound = Self.prepared(request)
        let response = try await client.execute(outbound, deadline: .now() + .nanoseconds(Self.nanoseconds(policy.timeout)))
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > policy.maxResponseBytes {
            throw OutboundError.responseTooLarge(host: host, limit: policy.maxResponseBytes)
        }
        var body = Data()
        for try await chunk in response.body {
            guard body.count + chunk.readableBytes <= policy.maxResponseBytes else {
                throw OutboundError.responseTooLarge(host: host, limit: policy.maxResponseBytes)
            }
            body.append(contentsOf: chunk.readableBytesView)
        }
        return OutboundResponse(status: Int(response.status.code), headers: response.headers.map { (name: $0.name, value: $0.value) }, body: body)
    }

    /// Waits for graceful shutdown, then shuts the HTTP client down.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Shuts the HTTP client down; later calls do nothing.
    public func shutdown() async throws {
        let first = isShutDown.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { try await client.shutdown() }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
