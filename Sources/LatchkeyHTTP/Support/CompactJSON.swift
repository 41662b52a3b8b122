import Foundation
import Hummingbird
import LatchkeyCore
import NIOCore

/// JSON for the hot routes' small, fixed-shape bodies (the token route, health checks), where `JSONEncoder` and
/// `JSONSerialization` + `JSONDecoder` cost more than the rest of the handler. Writes what `JSON.encoder` writes for
/// the same values (compact, keys in sorted order — members must be added that way —, slashes not escaped, ISO 8601
/// dates in UTC without fractions, absent optionals left out), and reads only what it can read exactly: anything else is handed back to the general path (`JSON.decode`),
/// which gives every error its usual wording.
struct CompactJSONObject {
    private var bytes: [UInt8]
    private var empty = true
    #if DEBUG
    private var lastKey = ""
    #endif

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// A string member; left out when nil.
    mutating func add(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        member(key)
        JSONText.appendString(value, to: &bytes)
    }

    /// An ISO 8601 date-time member; left out when nil.
    mutating func add(_ key: StaticString, _ value: Date?) {
        guard let value else { return }
        member(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: Self.iso8601(value).utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    /// An array-of-strings member.
    mutating func add(_ key: StaticString, _ values: [String]) {
        member(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The finished object as a JSON response, with the headers `JSON.response` sets.
    func response(status: HTTPResponse.Status = .ok) -> Response {
        var body = ByteBuffer()
        body.reserveCapacity(bytes.count + 1)
        body.writeBytes(bytes)
        body.writeInteger(UInt8(ascii: "}"))
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: body)
        )
    }

    private mutating func member(_ key: StaticString) {
        #if DEBUG
        let text = key.description
        assert(empty || text > lastKey, "CompactJSONObject members must be added in sorted key order, as JSON.encoder writes them")
        lastKey = text
        #endif
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// `2026-12-06T18:07:45Z`: what `JSONEncoder.DateEncodingStrategy.iso8601` writes (whole seconds, UTC).
    static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = Int(parts.tm_year) + 1900
        let yearText = year < 1000 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return
            "\(yearText)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}

extension FlatJSONStrings {
    /// `parse` over a request body.
    static func parse(_ buffer: ByteBuffer) -> [String: String]? {
        buffer.withUnsafeReadableBytes { parse($0) }
    }
}
