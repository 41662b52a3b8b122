public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which URLs Latchkey calls on the way out, and with which limits (DESIGN.md §5.7).
public struct OutboundPolicy: Sendable {
    /// Whether loopback, private, link-local and CGNAT hosts (and plain http to them) may be called: demo and tests.
    public var allowPrivateNetwork: Bool
    /// Answers larger than this are cut off with ``OutboundError/responseTooLarge(host:limit:)``.
    public var maxResponseBytes: Int = 1 << 20
    /// The whole request, from connecting to the last byte of the answer, must fit in this time.
    public var timeout: Duration = .seconds(10)

    public init(allowPrivateNetwork: Bool, maxResponseBytes: Int = 1 << 20, timeout: Duration = .seconds(10)) {
        self.allowPrivateNetwork = allowPrivateNetwork
        self.maxResponseBytes = maxResponseBytes
        self.timeout = timeout
    }

    /// Only http(s), no user info in the URL; plain http only to loopback or private hosts and only with
    /// ``allowPrivateNetwork``. Hosts that are, or resolve to, loopback, private (RFC 1918, fc00::/7), link-local,
    /// unspecified, multicast or CGNAT addresses are refused unless ``allowPrivateNetwork``. Names are resolved on a
    /// dispatch queue, never on an event loop or the cooperative pool.
    ///
    /// The connection resolves the name again, so a name whose answer changes between the two lookups could slip
    /// through; endpoints set by an admin are trusted as configured (DESIGN.md §5.7), so this is accepted.
    public func check(_ url: URL) async throws(OutboundError) {
        guard let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw .unsupportedURL(reason: "only http and https URLs are called")
        }
        guard url.user == nil, url.password == nil else { throw .unsupportedURL(reason: "user info in the URL") }
        guard var host = url.host, !host.isEmpty else { throw .unsupportedURL(reason: "no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        let isPrivate: Bool
        if name == "localhost" || name.hasSuffix(".localhost") {
            isPrivate = true
        } else {
            let addresses = try await Self.resolve(host)
            isPrivate = addresses.contains { Self.isPrivate($0) }
        }
        if isPrivate, !allowPrivateNetwork { throw .blockedAddress(host: host) }
        if scheme == "http", !isPrivate { throw .unsupportedURL(reason: "plain http is only used for private hosts") }
    }

    /// Whether an address (4 or 16 bytes, network order) must not be called without ``allowPrivateNetwork``.
    static func isPrivate(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 {
            let (a, b) = (bytes[0], bytes[1])
            return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) || (a == 172 && (16...31).contains(b))
                || (a == 192 && b == 168) || (a == 100 && (64...127).contains(b)) || a >= 224
        }
        guard bytes.count == 16 else { return true }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {  // ::ffff:a.b.c.d
            return isPrivate(Array(bytes[12..<16]))
        }
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return isPrivate(Array(bytes[12..<16])) }  // ::a.b.c.d (deprecated)
        if bytes[0] == 0x64 && bytes[1] == 0xff && bytes[2] == 0x9b && bytes[3...11].allSatisfy({ $0 == 0 }) {  // NAT64 64:ff9b::/96
            return isPrivate(Array(bytes[12..<16]))
        }
        return (bytes[0] & 0xfe) == 0xfc || (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) || bytes[0] == 0xff
    }

    /// Every address `host` resolves to; a literal address is taken as it is.
    static func resolve(_ host: String) async throws(OutboundError) -> [[UInt8]] {
        if let literal = literalAddress(host) { return [literal] }
        let result: [[UInt8]]? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: lookUp(host))
            }
        }
        guard let result, !result.isEmpty else { throw .unreachable(host: host) }
        return result
    }

    static func literalAddress(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    private static func lookUp(_ host: String) -> [[UInt8]]? {
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
