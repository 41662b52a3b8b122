public import Foundation
import LatchkeyCore
import SQLKit

extension SQLRow {
    func string(_ column: String) throws -> String { try read(column) { try decode(column: column, as: String.self) } }
    func optionalString(_ column: String) throws -> String? { try read(column) { try decode(column: column, as: String?.self) } }
    func int(_ column: String) throws -> Int { try read(column) { try decode(column: column, as: Int.self) } }
    func optionalInt(_ column: String) throws -> Int? { try read(column) { try decode(column: column, as: Int?.self) } }
    func bool(_ column: String) throws -> Bool { try int(column) != 0 }
    func date(_ column: String) throws -> Date { Date(unixMilliseconds: Int64(try int(column))) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt(column).map { Date(unixMilliseconds: Int64($0)) } }
    func data(_ column: String) throws -> Data { try read(column) { try decode(column: column, as: Data.self) } }
    func optionalData(_ column: String) throws -> Data? { try read(column) { try decode(column: column, as: Data?.self) } }
    /// A JSON array column; a value that does not parse throws a `StorageError` naming `table`, the column and the row.
    func stringArray(_ column: String, table: String) throws -> [String] {
        try StorageError.naming(table: table) { try self.read(column) { try JSONColumn.decodeArray(try decode(column: column, as: String.self)) } }
    }
    /// A JSON object column; a value that does not parse throws a `StorageError` naming `table`, the column and the row.
    func stringMap(_ column: String, table: String) throws -> [String: String] {
        try StorageError.naming(table: table) { try self.read(column) { try JSONColumn.decodeMap(try decode(column: column, as: String.self)) } }
    }

    /// Runs `read`, turning a failure into a `StorageError` for `column` of this row (no stored value in it); the
    /// table is filled in by `StorageError.naming(table:)` around the whole row.
    private func read<T>(_ column: String, _ value: () throws -> T) throws -> T {
        do {
            return try value()
        } catch {
            throw StorageError(table: "", column: column, rowID: (try? decode(column: "id", as: String.self)) ?? "unknown")
        }
    }
}

/// Small JSON values kept in TEXT columns (same on both dialects).
enum JSONColumn {
    static func encode(_ value: [String]) -> String { JSONText.array(value) }
    static func encode(_ value: [String: String]) -> String { JSONText.object(value) }
    static func decodeArray(_ text: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }
    static func decodeMap(_ text: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}

extension Date {
    var ms: Int { Int(unixMilliseconds) }
}

/// New ids: lowercase UUIDs, stored as TEXT on both dialects.
public enum NewID {
    /// A random (version 4) UUID in lowercase, from the system's generator (one `getrandom` call, where Foundation's
    /// `UUID()` opens and reads `/dev/urandom` each time; every audit event and request log entry takes one).
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { out in
            digits.withUTF8Buffer { digits in
                var position = 0
                for nibble in 0..<32 {
                    if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    let word = nibble < 16 ? high : low
                    out[position] = digits[Int((word >> UInt64(4 * (15 - nibble % 16))) & 0xF)]
                    position += 1
                }
            }
            return 36
        }
    }
}

/// Opaque list cursors: "createdAtMs:id" in URL-safe base64.
public enum ListCursor {
    public static func encode(createdAt: Date, id: String) -> String {
        Data("\(createdAt.unixMilliseconds):\(id)".utf8).base64URLEncodedString()
    }

    public static func decode(_ cursor: String) throws -> (createdAt: Int, id: String) {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":"), let createdAt = Int(text[..<colon])
        else { throw LatchkeyError.invalidField("cursor", "is not a cursor returned by this list") }
        return (createdAt, String(text[text.index(after: colon)...]))
    }
}
