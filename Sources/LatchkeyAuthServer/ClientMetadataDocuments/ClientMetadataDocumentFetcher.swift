public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import Logging
import Synchronization

/// Fetches a client's metadata document from its `client_id` URL through Latchkey's outbound transport, and keeps it
/// as long as the answer's `Cache-Control` allows.
///
/// The URL is judged first (``ClientMetadataDocumentValidator/documentURL(for:allowPrivateNetwork:)``), then the
/// ``OutboundPolicy`` is checked before the transport is called: a host that is, or resolves to, a loopback, private or
/// link-local address is refused without any connection unless the policy allows private networks. Redirects are not
/// followed (any answer but 200 is refused), the body is cut off past ``Limits/maxBytes``, and the whole fetch must
/// end within ``Limits/timeout`` of the injected clock.
public final class ClientMetadataDocumentFetcher: ClientMetadataDocumentSource {
    /// Size, time and caching limits.
    public struct Limits: Sendable {
        /// The largest document read (the draft suggests 5 KiB).
        public var maxBytes: Int
        /// The whole fetch, from connecting to the last byte, must fit in this time.
        public var timeout: Duration
        /// How long a document whose answer says nothing about caching is kept.
        public var defaultLifetime: TimeInterval
        /// The longest a document is kept, whatever its `max-age` says.
        public var maxLifetime: TimeInterval
        /// How many documents are kept at most.
        public var cacheCapacity: Int

        public init(
            maxBytes: Int = 5 * 1024,
            timeout: Duration = .seconds(5),
            defaultLifetime: TimeInterval = 300,
            maxLifetime: TimeInterval = 3600,
            cacheCapacity: Int = 1000
        ) {
            self.maxBytes = maxBytes
            self.timeout = timeout
            self.defaultLifetime = defaultLifetime
            self.maxLifetime = maxLifetime
            self.cacheCapacity = cacheCapacity
        }
    }

    private struct Fetched: Sendable {
        let body: Data
        let cacheControl: String?
    }

    private let transport: any HTTPTransport
    private let policy: OutboundPolicy
    private let clock: any LatchkeyClock
    private let limits: Limits
    private let logger: Logger
    private let cache: Mutex<ClientMetadataDocumentCache>

    /// `policy` is the server's outbound policy (its ``OutboundPolicy/allowPrivateNetwork`` also allows the https-less
    /// local test mode: plain http to a loopback `client_id`); `transport` must not follow redirects (the production
    /// ``AsyncHTTPClientTransport`` does not).
    public init(
        transport: any HTTPTransport,
        policy: OutboundPolicy,
        clock: any LatchkeyClock = SystemClock(),
        limits: Limits = Limits(),
        logger: Logger = Logger(label: "latchkey.client-metadata")
    ) {
        self.transport = transport
        self.policy = policy
        self.clock = clock
        self.limits = limits
        self.logger = logger
        self.cache = Mutex(ClientMetadataDocumentCache(capacity: limits.cacheCapacity))
    }

    public func document(for clientID: String) async throws -> ClientMetadataDocument {
        do {
            return try await fetchOrReuse(clientID)
        } catch {
            logger.info(
                "client metadata document refused",
                metadata: ["client_host": "\(URLComponents(string: clientID)?.host ?? "none")", "reason": "\(error.message)"]
            )
            throw error
        }
    }

    private func fetchOrReuse(_ clientID: String) async throws(ClientMetadataDocumentError) -> ClientMetadataDocument {
        let url = try ClientMetadataDocumentValidator.documentURL(for: clientID, allowPrivateNetwork: policy.allowPrivateNetwork)
        if let cached = cache.withLock({ $0.document(for: clientID, now: clock.now) }) { return cached }
        let host = url.host ?? "unknown host"
        do {
            try await policy.enforce(url, logger: logger)
        } catch {
            throw Self.error(for: error, clientID: clientID, host: host, timeout: limits.timeout)
        }
        let fetched = try await fetchWithinTimeLimit(url, clientID: clientID, host: host)
        let document = try ClientMetadataDocumentValidator.document(from: fetched.body, clientID: clientID)
        let lifetime = ClientMetadataDocumentCache.lifetime(
            cacheControl: fetched.cacheControl,
            defaultLifetime: limits.defaultLifetime,
            maximum: limits.maxLifetime
        )
        if let lifetime {
            let now = clock.now
            cache.withLock { $0.store(document, for: clientID, lifetime: lifetime, now: now) }
        }
        logger.debug("client metadata document fetched", metadata: ["client_host": "\(host)", "cached_seconds": "\(lifetime ?? 0)"])
        return document
    }

    /// The fetch raced against the clock: whichever ends first wins, the other is cancelled.
    private func fetchWithinTimeLimit(_ url: URL, clientID: String, host: String) async throws(ClientMetadataDocumentError) -> Fetched {
        let timeout = limits.timeout
        do {
            return try await withThrowingTaskGroup(of: Fetched?.self) { group in
                group.addTask { try await self.fetch(url, host: host) }
                group.addTask {
                    try await self.clock.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let fetched = first else {
                    throw ClientMetadataDocumentError.timedOut(host: host, seconds: Int(timeout.components.seconds))
                }
                return fetched
            }
        } catch {
            throw Self.error(for: error, clientID: clientID, host: host, timeout: timeout)
        }
    }

    private func fetch(_ url: URL, host: String) async throws -> Fetched {
        let request = OutboundRequest(method: "GET", url: url, headers: [(name: "Accept", value: "application/json")])
        let response = try await transport.stream(request, body: nil)
        let limit = limits.maxBytes
        guard response.status == 200 else {
            await response.body.discard(upTo: limit)
            throw ClientMetadataDocumentError.unexpectedStatus(response.status)
        }
        if let length = response.contentLength, length > limit { throw ClientMetadataDocumentError.tooLarge(limit: limit) }
        let body = try await response.body.collect(upTo: limit) { ClientMetadataDocumentError.tooLarge(limit: limit) }
        return Fetched(body: body, cacheControl: response.header("Cache-Control"))
    }

    /// What a failed fetch of `clientID` from `host` is called.
    private static func error(for error: any Error, clientID: String, host: String, timeout: Duration) -> ClientMetadataDocumentError {
        switch error {
        case let error as ClientMetadataDocumentError:
            return error
        case OutboundError.blockedAddress(let host, let reason):
            return .blockedAddress(host: host, reason: reason)
        case OutboundError.unsupportedURL(let reason):
            return .invalidClientID(clientID, problem: reason)
        case OutboundError.timedOut:
            return .timedOut(host: host, seconds: Int(timeout.components.seconds))
        case OutboundError.responseTooLarge(_, let limit):
            return .tooLarge(limit: limit)
        default:
            return .unreachable(host: host)
        }
    }
}
