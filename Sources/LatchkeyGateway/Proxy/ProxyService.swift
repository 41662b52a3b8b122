public import Foundation
public import LatchkeyCore
public import LatchkeyLifecycle
public import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import Synchronization

/// Relays one call to a provider's API as an end user (DESIGN §4): resolves the credential (refreshed first when
/// due), builds the outbound URL on the provider's API base (``ProxyTarget``), puts the secret on it the provider's
/// way (``ProxyCredentials``), sends it through the policy-checked transport (no redirects followed) and hands back
/// the provider's status, filtered headers and body. ``stream(_:caller:)`` relays both bodies as they arrive, within
/// ``Limits``; ``send(_:caller:)`` reads the answer whole. The secret never appears in what it returns or throws.
public struct ProxyService: Sendable {
    let resolver: CredentialResolver
    let providers: ProviderResolver
    let transport: any HTTPTransport
    public let limits: Limits

    public init(resolver: CredentialResolver, providers: ProviderResolver, transport: any HTTPTransport, limits: Limits = .init()) {
        self.resolver = resolver
        self.providers = providers
        self.transport = transport
        self.limits = limits
    }

    /// How much may cross the proxy.
    public struct Limits: Sendable {
        /// The largest request body relayed (413 `payload_too_large` beyond); `LATCHKEY_PROXY_MAX_UPLOAD_MB`.
        public var maxUploadBytes: Int
        /// The largest streamed answer relayed (502 `provider_unreachable` when the provider announces more; the
        /// relay is cut off when it sends more); `LATCHKEY_PROXY_MAX_DOWNLOAD_MB`.
        public var maxDownloadBytes: Int
        /// The largest answer ``ProxyService/send(_:caller:)`` reads into memory.
        public var maxBufferedAnswerBytes: Int
        /// A request body up to this size is held, so that it can be sent again after a forced refresh; a larger one
        /// (or one of unknown length) is streamed and not retried.
        public var maxRetainedUploadBytes: Int

        public init(
            maxUploadBytes: Int = 100 << 20,
            maxDownloadBytes: Int = 1 << 30,
            maxBufferedAnswerBytes: Int = 1 << 20,
            maxRetainedUploadBytes: Int = 1 << 20
        ) {
            self.maxUploadBytes = maxUploadBytes
            self.maxDownloadBytes = maxDownloadBytes
            self.maxBufferedAnswerBytes = maxBufferedAnswerBytes
            self.maxRetainedUploadBytes = maxRetainedUploadBytes
        }
    }

    /// One call as it came in: the path relative to the API base and the query, both still percent-encoded.
    public struct Call: Sendable {
        public var method: String
        public var query: CredentialResolver.Query
        public var path: String
        public var queryString: String?
        public var headers: [(name: String, value: String)]
        /// A body held whole (sent again after a forced refresh).
        public var body: Data?
        /// A body relayed as it arrives, in place of `body`, within ``Limits/maxUploadBytes``; not sent twice.
        public var upload: OutboundByteStream?

        public init(
            method: String,
            query: CredentialResolver.Query,
            path: String,
            queryString: String?,
            headers: [(name: String, value: String)],
            body: Data?,
            upload: OutboundByteStream? = nil
        ) {
            self.method = method
            self.query = query
            self.path = path
            self.queryString = queryString
            self.headers = headers
            self.body = body
            self.upload = upload
        }
    }

    /// The provider's answer, headers filtered, with the credential that was used.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: Data
        public var credential: Credential
    }

    /// The provider's answer with its body still arriving (within ``Limits/maxDownloadBytes``), headers filtered,
    /// with the credential that was used.
    public struct StreamedAnswer: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: OutboundByteStream
        public var credential: Credential
        /// The provider's name as people see it, for messages about this answer.
        public var providerName: String
        /// The body's length as the provider announced it, when it did.
        public var contentLength: Int?
    }

    /// Refuses a path or query that would leave the API base, before anything is resolved or sent.
    public static func check(path: String, queryString: String?) throws(LatchkeyError) {
        if let problem = ProxyTarget.pathProblem(path) { throw LatchkeyError.invalidField("path", problem) }
        if let queryString, let problem = ProxyTarget.queryProblem(queryString) { throw LatchkeyError.invalidField("query", problem) }
    }

    /// The call, with the provider's answer read whole (within ``Limits/maxBufferedAnswerBytes``).
    public func send(_ call: Call, caller: CredentialResolver.Caller) async throws -> Answer {
        let answer = try await stream(call, caller: caller)
        let limit = limits.maxBufferedAnswerBytes
        let body: Data
        do {
            body = try await answer.body.collect(upTo: limit) { OutboundError.responseTooLarge(host: "", limit: limit) }
        } catch let error as OutboundError {
            throw Self.failure(error, name: answer.providerName)
        }
        return Answer(status: answer.status, headers: answer.headers, body: body, credential: answer.credential)
    }

    /// The call, with the request body (`upload`) relayed as it arrives and the answer handed back as soon as its
    /// status and headers are in. A provider's 401 to an OAuth token is answered with one forced refresh and one
    /// retry when the request body was held whole; a streamed upload cannot be sent twice, so then the token is
    /// refreshed and the caller is asked to send the call again.
    public func stream(_ call: Call, caller: CredentialResolver.Caller) async throws -> StreamedAnswer {
        try Self.check(path: call.path, queryString: call.queryString)
        // The integration is read while the credential is resolved: one round trip less on every call's path.
        let providers = providers
        async let named = providers.integrations.integrations.find(key: call.query.integrationKey, tenantID: caller.tenantID)
        let token = try await resolver.token(for: call.query, caller: caller)
        var credential = token.credential
        guard let (integration, provider) = try await Self.integration(of: credential, named: try await named, providers: providers) else {
            throw LatchkeyError(.notConnected, "The service \(credential.integrationKey) is no longer set up on this server.")
        }
        let name = integration.displayName ?? provider.displayName
        let base: URL
        do {
            base = try EndpointResolver.apiBaseURL(provider: provider, settings: integration.settings, templateValues: credential.connectionConfig)
        } catch {
            throw LatchkeyError(
                .conflict,
                "\(name) has no API base URL Latchkey can call for this credential (\(error.description)). "
                    + "Set the integration's apiBaseURL, or reconnect the account so that its values are stored."
            )
        }
        let url = try ProxyTarget.url(base: base, path: call.path, query: call.queryString)
        let forwarded = ProxyTarget.requestHeaders(call.headers)
        let uploadLimit = limits.maxUploadBytes
        let uploadTooLarge = Flag()
        let upload = call.upload?
            .limited(to: uploadLimit) {
                uploadTooLarge.raise()
                return LatchkeyError.payloadTooLarge(limit: uploadLimit)
            }
        func send(_ token: CredentialResolver.Token) async throws -> OutboundStreamedResponse {
            let headers = forwarded + ProxyCredentials.headers(for: token.secret, provider: provider, callerHeaders: forwarded)
            do {
                return try await transport.stream(OutboundRequest(method: call.method, url: url, headers: headers, body: call.body), body: upload)
            } catch {
                if uploadTooLarge.isRaised { throw LatchkeyError.payloadTooLarge(limit: uploadLimit) }
                if let error = error as? OutboundError { throw Self.failure(error, name: name) }
                throw error
            }
        }
        var response = try await send(token)
        if response.status == 401, credential.type == .oauth2 {
            // One forced refresh and one retry; a provider that still refuses means the person must reconnect.
            await response.body.discard(upTo: Self.refusalBodyBytes)
            guard let refreshed = try await resolver.refreshed(after: token, for: call.query, caller: caller) else {
                throw resolver.refusedByProvider(token, providerName: name, caller: caller)
            }
            guard call.upload == nil else {
                throw LatchkeyError(
                    .providerUnreachable,
                    "\(name) refused the token, so Latchkey refreshed it; the request body was streamed and cannot be sent "
                        + "twice. Send the call again.",
                    retryAfter: 0
                )
            }
            response = try await send(refreshed)
            if response.status == 401 {
                await response.body.discard(upTo: Self.refusalBodyBytes)
                throw resolver.refusedByProvider(refreshed, providerName: name, caller: caller)
            }
            credential = refreshed.credential
        }
        if (300..<400).contains(response.status), let location = response.header("Location"),
            let target = URL(string: location, relativeTo: url)?.absoluteURL,
            target.host?.lowercased() != base.host?.lowercased() || target.scheme != base.scheme || target.port != base.port
        {
            throw LatchkeyError(
                .providerUnreachable,
                "\(name) redirected the call to another host (\(target.host ?? "unknown")). Latchkey does not follow or relay "
                    + "redirects off the provider's API host; call that address directly if you trust it."
            )
        }
        let downloadLimit = limits.maxDownloadBytes
        let host = url.host ?? name
        if let length = response.contentLength, length > downloadLimit {
            throw Self.failure(.responseTooLarge(host: host, limit: downloadLimit), name: name)
        }
        return StreamedAnswer(
            status: response.status,
            headers: ProxyTarget.responseHeaders(response.headers),
            body: response.body.limited(to: downloadLimit) { OutboundError.responseTooLarge(host: host, limit: downloadLimit) },
            credential: credential,
            providerName: name,
            contentLength: response.contentLength
        )
    }

    /// The credential's integration and catalog entry: `named` (read by the call's integration key) when it is the
    /// credential's, else read again for the credential.
    private static func integration(
        of credential: Credential,
        named: Integration?,
        providers: ProviderResolver
    ) async throws -> (Integration, Provider)? {
        if let named, named.key == credential.integrationKey, named.tenantID == credential.tenantID,
            let provider = providers.catalog.provider(id: named.provider)
        {
            return (named, provider)
        }
        return try await providers.integration(of: credential)
    }

    /// How much of a 401 answer is read (and dropped) before the retry.
    static let refusalBodyBytes = 64 << 10

    /// What the caller is told when the provider gave no answer.
    static func failure(_ error: OutboundError, name: String) -> LatchkeyError {
        switch error {
        case .unreachable:
            LatchkeyError(.providerUnreachable, "Cannot reach \(name). This is usually temporary: try again in a moment.", retryAfter: 5)
        case .timedOut:
            LatchkeyError(.providerUnreachable, "\(name) did not answer in time. Try again in a moment.", retryAfter: 5)
        case .responseTooLarge(_, let limit):
            LatchkeyError(
                .providerUnreachable,
                "The answer of \(name) was larger than the proxy's limit of \(limit) bytes. Ask for less (a smaller page)."
            )
        case .blockedAddress:
            LatchkeyError(.forbidden, error.policyMessage ?? "The outbound policy refused the provider's address.")
        case .unsupportedURL(let reason):
            LatchkeyError(.invalidRequest, "Latchkey will not call that URL: \(reason).")
        }
    }
}

/// Set once from any task (the upload's limit was crossed), read after the send failed.
private final class Flag: Sendable {
    private let raised = Mutex(false)

    func raise() { raised.withLock { $0 = true } }

    var isRaised: Bool { raised.withLock { $0 } }
}
