public import Foundation
import NIOCore

/// One outbound HTTP request to a provider: token exchange, refresh, revocation, user-info, discovery.
public struct OutboundRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    /// Header names and values, in order; names compare case-insensitively.
    public var headers: [(name: String, value: String)]
    public var body: Data?

    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The form body decoded as `application/x-www-form-urlencoded`, for tests and fakes.
    public var formFields: [String: String] {
        guard let body, let text = String(data: body, encoding: .utf8) else { return [:] }
        var components = URLComponents()
        components.percentEncodedQuery = text.replacingOccurrences(of: "+", with: "%20")
        var fields: [String: String] = [:]
        for item in components.queryItems ?? [] { fields[item.name] = item.value ?? "" }
        return fields
    }

    public static func == (lhs: OutboundRequest, rhs: OutboundRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name.lowercased()):\($0.value)" } == rhs.headers.map { "\($0.name.lowercased()):\($0.value)" }
    }
}

/// A provider's answer. The body is already bounded by the transport's size limit.
public struct OutboundResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// Why an outbound request produced no response. None of the cases carries a secret or a full URL, only the host.
public enum OutboundError: Error, Sendable, Equatable {
    /// The host did not answer, refused the connection, or could not be resolved.
    case unreachable(host: String)
    /// No complete answer within the time limit.
    case timedOut(host: String)
    /// The answer was larger than the limit.
    case responseTooLarge(host: String, limit: Int)
    /// The outbound policy refused the host before any connection: it is, or resolves to, an address on this
    /// machine's network (``AddressClassifier``) and private networks are not allowed. `reason` says which, in plain
    /// words ("it is a private address").
    case blockedAddress(host: String, reason: String)
    /// The URL is not one Latchkey will call (not http(s), userinfo present, http to a public host, …).
    case unsupportedURL(reason: String)
}

extension OutboundError {
    /// Whether Latchkey's own outbound policy refused the call (a setting to change, not a provider failure).
    public var isPolicyRefusal: Bool {
        if case .blockedAddress = self { return true }
        return false
    }

    /// For a policy refusal: what Latchkey did not do, why, and how to allow it. Nil for every other case.
    public var policyMessage: String? {
        guard case .blockedAddress(let host, let reason) = self else { return nil }
        return "Latchkey did not call \(host): \(reason). Start the server with --allow-private-network to allow calls to this "
            + "machine's network."
    }
}

/// Sends outbound requests. The production implementation uses AsyncHTTPClient; tests use a fake.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and reads the whole answer, within the transport's size and time limits.
    func send(_ request: OutboundRequest) async throws -> OutboundResponse

    /// Sends `request` with `body` (when not nil, in place of `request.body`) relayed as it is read, and returns as
    /// soon as the status and headers are in: the answer's body is read as the caller iterates it. No size limit
    /// applies to either body here; the caller sets its own.
    func stream(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse
}

extension HTTPTransport {
    /// For transports that only answer whole (fakes in tests): the body is read into memory, the request sent with
    /// ``send(_:)``, and its answer handed back as a single piece.
    public func stream(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse {
        var request = request
        if let body {
            var data = Data()
            for try await piece in body { data.append(contentsOf: piece.readableBytesView) }
            request.body = data
        }
        let response = try await send(request)
        return OutboundStreamedResponse(status: response.status, headers: response.headers, body: OutboundByteStream(response.body))
    }
}
