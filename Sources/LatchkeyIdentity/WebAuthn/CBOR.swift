public import Foundation

/// A CBOR data item (RFC 8949), the subset WebAuthn uses: integers, byte and text strings, arrays, maps and the
/// simple values false, true and null. Floats, tags and indefinite lengths are refused: authenticators encode
/// attestation objects and COSE keys in the CTAP2 canonical form, which has none of them.
public enum CBOR: Sendable, Hashable {
    case unsigned(UInt64)
    /// A negative integer: -1 - n.
    case negative(UInt64)
    case bytes(Data)
    case text(String)
    case array([CBOR])
    case map([CBOR: CBOR])
    case bool(Bool)
    case null

    /// The integer value, when it is an integer that fits.
    public var int: Int? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int.max) ? Int(n) : nil
        case .negative(let n): n < UInt64(Int.max) ? -1 - Int(n) : nil
        default: nil
        }
    }

    public subscript(_ key: Int) -> CBOR? {
        guard case .map(let map) = self else { return nil }
        return map[key >= 0 ? .unsigned(UInt64(key)) : .negative(UInt64(-1 - key))]
    }

    public subscript(_ key: String) -> CBOR? {
        guard case .map(let map) = self else { return nil }
        return map[.text(key)]
    }

    public var bytes: Data? {
        if case .bytes(let data) = self { return data }
        return nil
    }

    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }
}

/// Why CBOR could not be read.
public struct CBORError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Reads CBOR items from bytes, one after another, so that a caller learns where an item ends (a COSE key inside
/// authenticator data is followed by the extensions).
public struct CBORReader {
    private let bytes: [UInt8]
    /// Where the next item starts.
    public private(set) var offset: Int
    let maximumDepth: Int

    public init(_ data: Data, offset: Int = 0, maximumDepth: Int = 16) {
        self.bytes = Array(data)
        self.offset = offset
        self.maximumDepth = maximumDepth
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    /// The whole of `data` as one item; trailing bytes are an error.
    public static func decode(_ data: Data) throws -> CBOR {
        var reader = CBORReader(data)
        let item = try reader.read()
        guard reader.isAtEnd else { throw CBORError("\(data.count - reader.offset) bytes follow the CBOR item") }
        return item
    }

    public mutating func read() throws -> CBOR {
        try read(depth: 0)
    }

    private mutating func read(depth: Int) throws -> CBOR {
        guard depth <= maximumDepth else { throw CBORError("nested deeper than \(maximumDepth) levels") }
        let initial = try byte()
        let major = initial >> 5
        let info = initial & 0x1F
        if major == 7 {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22, 23: return .null
            default: throw CBORError("unsupported simple value or float (\(info))")
            }
        }
        let argument = try self.argument(info)
        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2: return .bytes(Data(try take(argument)))
        case 3:
            guard let text = String(validating: try take(argument), as: UTF8.self) else { throw CBORError("a text string is not UTF-8") }
            return .text(text)
        case 4:
            let count = try self.count(argument, minimumItemSize: 1)
            var items: [CBOR] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try read(depth: depth + 1)) }
            return .array(items)
        case 5:
            let count = try self.count(argument, minimumItemSize: 2)
            var map: [CBOR: CBOR] = [:]
            for _ in 0..<count {
                let key = try read(depth: depth + 1)
                guard map[key] == nil else { throw CBORError("a map repeats a key") }
                map[key] = try read(depth: depth + 1)
            }
            return .map(map)
        default:
            throw CBORError("tags are not supported")
        }
    }

    private mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw CBORError("the data ends inside an item") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func argument(_ info: UInt8) throws -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24...27:
            var value: UInt64 = 0
            for _ in 0..<(1 << (info - 24)) { value = value << 8 | UInt64(try byte()) }
            return value
        case 31: throw CBORError("indefinite lengths are not supported")
        default: throw CBORError("reserved additional information (\(info))")
        }
    }

    /// A count of items that the remaining bytes can hold (so that a forged count cannot reserve memory).
    private func count(_ argument: UInt64, minimumItemSize: Int) throws -> Int {
        let remaining = bytes.count - offset
        guard argument <= UInt64(remaining / minimumItemSize) else { throw CBORError("a length runs past the end of the data") }
        return Int(argument)
    }

    private mutating func take(_ length: UInt64) throws -> ArraySlice<UInt8> {
        guard length <= UInt64(bytes.count - offset) else { throw CBORError("a length runs past the end of the data") }
        defer { offset += Int(length) }
        return bytes[offset..<offset + Int(length)]
    }
}
