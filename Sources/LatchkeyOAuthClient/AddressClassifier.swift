import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address, 4 bytes (IPv4) or 16 bytes (IPv6) in network order.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Nil unless `bytes` has 4 or 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Dotted decimal for IPv4, the RFC 5952 text form for IPv6.
    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var storage = in6_addr()
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &storage, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The one place that decides whether a host or an address is on this machine's network (loopback, private,
/// link-local, …) or otherwise not a public unicast address, and says why. Every outbound check uses it:
/// ``OutboundPolicy``, webhook endpoints, integration endpoint settings.
///
/// Literal addresses are read in every form the system resolver accepts — `127.0.0.1`, `127.1`, `2130706433`,
/// `0x7f000001`, `0177.0.0.1`, IPv6 in brackets or not — and IPv6 addresses that carry an IPv4 address (IPv4-mapped
/// and -compatible, NAT64, 6to4, Teredo) are judged by the address they carry.
public enum AddressClassifier {
    /// What a host names, before any DNS lookup.
    public enum Host: Sendable, Equatable {
        /// A literal address.
        case address(IPAddress)
        /// A name that always means this machine (`localhost`, `*.localhost`, `localhost.localdomain`, …).
        case thisMachine(String)
        /// A DNS name (lowercased, without trailing dots), to be resolved.
        case name(String)
    }

    /// Reads a URL host: brackets and trailing dots are dropped, case is folded.
    public static func host(_ text: String) -> Host {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        host = host.lowercased()
        if let address = literal(host) { return .address(address) }
        if localNames.contains(host) || host.hasSuffix(".localhost") { return .thisMachine(host) }
        return .name(host)
    }

    /// Why Latchkey must not call `text` without `--allow-private-network` ("it is a private address"), or nil
    /// when nothing is known against it before a DNS lookup.
    public static func refusal(host text: String) -> String? {
        switch host(text) {
        case .address(let address): refusal(address)
        case .thisMachine: "it names this machine"
        case .name: nil
        }
    }

    /// Why Latchkey must not call `address` without `--allow-private-network`, or nil for a public unicast address.
    public static func refusal(_ address: IPAddress) -> String? {
        guard let (kind, carried) = classify(address) else { return nil }
        if let carried { return "it is \(carried.via) address carrying \(carried.address), \(kind)" }
        return "it is \(kind)"
    }

    /// Why a name that resolved to `address` must not be called, or nil when the address is public.
    public static func refusal(name: String, resolvedTo address: IPAddress) -> String? {
        guard let (kind, carried) = classify(address) else { return nil }
        if let carried { return "it resolves to \(address), \(carried.via) address carrying \(carried.address), \(kind)" }
        return "it resolves to \(address), \(kind)"
    }

    /// Names the resolver maps to this machine without asking DNS (Debian's `/etc/hosts` included).
    static let localNames: Set<String> = ["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "localhost6"]

    // MARK: - Literal forms

    /// A literal address in any form the system resolver accepts, or nil for a name.
    public static func literal(_ text: String) -> IPAddress? {
        if let v4 = ipv4(text) { return v4 }
        guard text.contains(":"), text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        return IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) })
    }

    /// IPv4 as `inet_aton` reads it: one to four parts, each decimal, octal (leading `0`) or hex (`0x`); the last
    /// part fills the bytes that remain (`127.1` is 127.0.0.1, `2130706433` is 127.0.0.1).
    static func ipv4(_ text: String) -> IPAddress? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = number(Substring(part)) else { return nil }
            values.append(value)
        }
        var bytes: [UInt8] = []
        for value in values.dropLast() {
            guard value <= 0xff else { return nil }
            bytes.append(UInt8(value))
        }
        let remaining = 4 - bytes.count
        guard let last = values.last, last < (UInt64(1) << (8 * remaining)) else { return nil }
        for index in (0..<remaining).reversed() { bytes.append(UInt8((last >> (8 * UInt64(index))) & 0xff)) }
        return IPAddress(bytes: bytes)
    }

    private static func number(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 32 else { return nil }
        let lower = part.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if lower.count > 1, lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
        return UInt64(lower, radix: 10)
    }

    // MARK: - Classification

    typealias Classified = (kind: String, carried: (via: String, address: IPAddress)?)

    /// The kind of non-public address (with its article, "a private address"), and the IPv4 address it carries
    /// when it is a translation or tunnel form; nil for a public unicast address.
    static func classify(_ address: IPAddress) -> Classified? {
        let b = address.bytes
        if b.count == 4 { return ipv4Kind(b).map { (kind: $0, carried: nil) } }
        func carried(_ via: String, _ range: Range<Int>, mask: UInt8 = 0) -> Classified? {
            guard let inner = IPAddress(bytes: b[range].map { $0 ^ mask }), let kind = ipv4Kind(inner.bytes) else { return nil }
            return (kind: kind, carried: (via: via, address: inner))
        }
        let zero = { (range: Range<Int>) in b[range].allSatisfy { $0 == 0 } }
        if zero(0..<15) { return (b[15] == 1 ? "a loopback address (this machine)" : "an unspecified address (this machine)", nil) }
        if zero(0..<10), b[10] == 0xff, b[11] == 0xff { return carried("an IPv4-mapped", 12..<16) }
        if zero(0..<8), b[8] == 0xff, b[9] == 0xff, zero(10..<12) { return carried("an IPv4-translated", 12..<16) }
        if zero(0..<12) { return carried("an IPv4-compatible", 12..<16) ?? ("a reserved address", nil) }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xff, b[3] == 0x9b {
            if zero(4..<12) { return carried("a NAT64", 12..<16) }
            if b[4] == 0x00, b[5] == 0x01 { return ("a local-use NAT64 address (64:ff9b:1::/48)", nil) }
        }
        if b[0] == 0x01, zero(1..<8) { return ("a discard-only address (100::/64)", nil) }
        if b[0] == 0x20, b[1] == 0x02 { return carried("a 6to4", 2..<6) }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x00, b[3] == 0x00 {  // Teredo: server, then the client's address inverted
            return carried("a Teredo", 12..<16, mask: 0xff) ?? carried("a Teredo", 4..<8)
        }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0d, b[3] == 0xb8 { return ("a documentation address (2001:db8::/32)", nil) }
        if b[0] == 0x3f, b[1] == 0xff, b[2] & 0xf0 == 0 { return ("a documentation address (3fff::/20)", nil) }
        if b[0] & 0xfe == 0xfc { return ("a private address (unique local, fc00::/7)", nil) }
        if b[0] == 0xfe, b[1] & 0xc0 == 0x80 { return ("a link-local address", nil) }
        if b[0] == 0xfe, b[1] & 0xc0 == 0xc0 { return ("a private address (site-local, fec0::/10)", nil) }
        if b[0] == 0xff { return ("a multicast address", nil) }
        return nil
    }

    private static func ipv4Kind(_ b: [UInt8]) -> String? {
        let (a, second, third) = (b[0], b[1], b[2])
        switch a {
        case 0: return "an unspecified address (0.0.0.0/8, this machine)"
        case 10: return "a private address"
        case 127: return "a loopback address (this machine)"
        case 100 where (64...127).contains(second): return "a shared carrier-grade NAT address (100.64.0.0/10)"
        case 169 where second == 254: return "a link-local address"
        case 172 where (16...31).contains(second): return "a private address"
        case 192 where second == 168: return "a private address"
        case 192 where second == 0 && third == 0: return "a reserved address (192.0.0.0/24)"
        case 192 where second == 0 && third == 2, 198 where second == 51 && third == 100, 203 where second == 0 && third == 113:
            return "a documentation address"
        case 192 where second == 88 && third == 99: return "a reserved address (6to4 relay, 192.88.99.0/24)"
        case 198 where second == 18 || second == 19: return "a benchmarking address (198.18.0.0/15)"
        case 224...239: return "a multicast address"
        case 255 where b.allSatisfy({ $0 == 255 }): return "the broadcast address"
        case 240...255: return "a reserved address (240.0.0.0/4)"
        default: return nil
        }
    }
}
