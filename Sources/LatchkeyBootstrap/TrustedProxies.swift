import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are believed (`--trusted-proxies`,
/// `LATCHKEY_TRUSTED_PROXIES`: IP addresses and CIDR ranges, comma-separated). With none (the default) the client
/// address is always the connection's peer and those headers are ignored.
public struct TrustedProxies: Sendable, Equatable {
    /// An address range: the first `prefix` bits of `address` (4 bytes for IPv4, 16 for IPv6).
    struct Range: Sendable, Equatable {
        let address: [UInt8]
        let prefix: Int

        func contains(_ other: [UInt8]) -> Bool {
            guard other.count == address.count else { return false }
            var bits = prefix
            for (a, b) in zip(address, other) {
                guard bits > 0 else { return true }
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if a & mask != b & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    let ranges: [Range]

    /// No trusted proxies.
    public init() { ranges = [] }

    /// Parses `10.0.0.1, 192.168.0.0/16, ::1`; throws a `ConfigurationError` naming the entry that is not an address.
    public init(parsing list: String, setting: String = "--trusted-proxies") throws {
        var ranges: [Range] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = Self.parse(parts[0]) else {
                throw ConfigurationError("\(setting): \(entry) is not an IP address or CIDR range such as 10.0.0.0/8 or 192.0.2.7")
            }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let value = Int(parts[1]), (0...bytes.count * 8).contains(value) else {
                    throw ConfigurationError("\(setting): the prefix length in \(entry) must be a number from 0 to \(bytes.count * 8)")
                }
                prefix = value
            }
            ranges.append(Range(address: bytes, prefix: prefix))
        }
        self.ranges = ranges
    }

    /// True when no proxy is trusted.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` is one of the trusted proxies.
    public func trusts(_ address: String) -> Bool {
        guard let bytes = Self.parse(address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// The client's address: the peer when it is not a trusted proxy; otherwise the rightmost address in the
    /// forwarding chain that is not a trusted proxy (what a client writes itself, left of that, is not believed).
    /// `X-Forwarded-For` is read when present, else `Forwarded`. An entry that is not an address ends the walk at the
    /// last good address to its right.
    public func clientAddress(peer: String?, forwardedFor: [String], forwarded: [String]) -> String? {
        guard let peer, !ranges.isEmpty, trusts(peer) else { return peer }
        let chain = forwardedFor.isEmpty ? Self.forwardedAddresses(forwarded) : Self.list(forwardedFor)
        var client = peer
        for entry in chain.reversed() {
            guard let normalized = Self.normalize(entry) else { return client }
            client = normalized
            if !trusts(normalized) { return normalized }
        }
        return client
    }

    /// Addresses of comma-separated header values, in order.
    static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    /// The `for=` addresses of RFC 7239 `Forwarded` values, in order (quotes, brackets and ports removed).
    static func forwardedAddresses(_ values: [String]) -> [String] {
        list(values).map { element in
            let pairs = element.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = pairs.first(where: { $0.lowercased().hasPrefix("for=") }) else { return "" }
            var value = String(pair.dropFirst(4)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if value.hasPrefix("["), let end = value.firstIndex(of: "]") {
                value = String(value[value.index(after: value.startIndex)..<end])
            } else if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") {
                value = String(value[..<colon])
            }
            return value
        }
    }

    /// The canonical text of an address (IPv4-mapped IPv6 as IPv4), nil when it is not one.
    static func normalize(_ text: String) -> String? {
        guard let bytes = parse(text) else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        guard ok else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 4 bytes for IPv4, 16 for IPv6; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes[12...])
        }
        return bytes
    }
}
