public import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which URLs Latchkey calls on the way out, and with which limits (DESIGN.md §5.7).
public struct OutboundPolicy: Sendable {
    /// Whether loopback, private, link-local and other non-public hosts (and plain http to them) may be called: demo and tests.
    public var allowPrivateNetwork: Bool
    /// Answers larger than this are cut off with ``OutboundError/responseTooLarge(host:limit:)``.
    public var maxResponseBytes: Int = 1 << 20
    /// The whole request, from connecting to the last byte of the answer, must fit in this time.
    public var timeout: Duration = .seconds(10)
    /// How names are turned into addresses: the system resolver, or a fixed table in tests.
    public var resolver: NameResolver

    public init(
        allowPrivateNetwork: Bool,
        maxResponseBytes: Int = 1 << 20,
        timeout: Duration = .seconds(10),
        resolver: NameResolver = .system
    ) {
        self.allowPrivateNetwork = allowPrivateNetwork
        self.maxResponseBytes = maxResponseBytes
        self.timeout = timeout
        self.resolver = resolver
    }

    /// Only http(s), no user info, no control characters or whitespace in the URL; plain http only to non-public
    /// hosts and only with ``allowPrivateNetwork``. Hosts that are, or resolve to, an address ``AddressClassifier``
    /// refuses (loopback, private, link-local, CGNAT, multicast, NAT64/6to4 forms of those, …) are refused with
    /// ``OutboundError/blockedAddress(host:reason:)`` unless ``allowPrivateNetwork``. Names are resolved on a dispatch
    /// queue, never on an event loop or the cooperative pool.
    ///
    /// The connection resolves the name again, so a name whose answer changes between the two lookups could slip
    /// through; endpoints set by an admin are trusted as configured (DESIGN.md §5.7), so this is accepted.
    public func check(_ url: URL) async throws(OutboundError) {
        guard let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw .unsupportedURL(reason: "only http and https URLs are called")
        }
        guard url.user == nil, url.password == nil else { throw .unsupportedURL(reason: "user info in the URL") }
        guard let host = url.host, !host.isEmpty else { throw .unsupportedURL(reason: "no host") }
        if let problem = Self.textProblem(url.absoluteString) ?? Self.hostProblem(url.host(percentEncoded: true) ?? host) {
            throw .unsupportedURL(reason: problem)
        }
        let refusal: String?
        switch AddressClassifier.host(host) {
        case .address(let address):
            refusal = AddressClassifier.refusal(address)
        case .thisMachine:
            refusal = "it names this machine"
        case .name(let name):
            guard let addresses = await resolver.lookUp(name), !addresses.isEmpty else { throw .unreachable(host: host) }
            refusal = addresses.lazy.compactMap { AddressClassifier.refusal(name: name, resolvedTo: $0) }.first
        }
        if let refusal, !allowPrivateNetwork { throw .blockedAddress(host: host, reason: refusal) }
        if scheme == "http", refusal == nil { throw .unsupportedURL(reason: "plain http is only used for private hosts") }
    }

    /// ``check(_:)``, and when the policy refuses the URL a warning naming the host and the reason (the URL's path and
    /// query are left out: they can carry secrets).
    public func enforce(_ url: URL, logger: Logger) async throws(OutboundError) {
        do {
            try await check(url)
        } catch {
            switch error {
            case .blockedAddress(let host, let reason):
                logger.warning(
                    "outbound call refused by the policy",
                    metadata: ["host": "\(host)", "reason": "\(reason)", "allow_with": "--allow-private-network"]
                )
            case .unsupportedURL(let reason):
                logger.warning("outbound call refused by the policy", metadata: ["host": "\(url.host ?? "none")", "reason": "\(reason)"])
            case .unreachable, .timedOut, .responseTooLarge: break
            }
            throw error
        }
    }

    /// Why a URL's text cannot be used as it is: a control character or whitespace anywhere in it. Nil when clean.
    public static func textProblem(_ text: String) -> String? {
        // ASCII first (controls, space and DEL; no format characters there), Unicode properties only beyond it.
        let bad = text.unicodeScalars.first { scalar in
            if scalar.isASCII { return scalar.value <= 0x20 || scalar.value == 0x7F }
            return [.control, .format].contains(scalar.properties.generalCategory) || scalar.properties.isWhitespace
        }
        guard bad != nil else { return nil }
        return "contains a control character or whitespace"
    }

    /// Why a URL host cannot be called: percent-encoding or a zone id, or a colon in something that is not an IPv6
    /// address. Nil when it is a plain name or a literal address.
    public static func hostProblem(_ host: String) -> String? {
        if host.contains("%") { return "the host is percent-encoded or names an interface" }
        if host.contains(":"), AddressClassifier.literal(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) == nil {
            return "the host is not a valid address"
        }
        return nil
    }
}

/// Turns a name into the addresses it resolves to.
public struct NameResolver: Sendable {
    /// Every address of a name, or nil when it does not resolve.
    public let lookUp: @Sendable (String) async -> [IPAddress]?

    public init(lookUp: @escaping @Sendable (String) async -> [IPAddress]?) {
        self.lookUp = lookUp
    }

    /// The system resolver (`getaddrinfo`), called on a dispatch queue.
    public static let system = NameResolver { host in
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: systemLookUp(host)?.compactMap { IPAddress(bytes: $0) })
            }
        }
    }

    /// A fixed table, for tests: a name not in it does not resolve. Nothing is asked of DNS.
    public static func fixed(_ table: [String: [IPAddress]]) -> NameResolver {
        NameResolver { host in table[host.lowercased()] }
    }

    private static func systemLookUp(_ host: String) -> [[UInt8]]? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var value = pointer.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &value) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var value = pointer.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &value) { Array($0) })
                    }
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}
