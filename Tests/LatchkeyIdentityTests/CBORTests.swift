import Foundation
import LatchkeyIdentity
import LatchkeyTesting
import Testing

/// The CBOR reader on the RFC 8949 Appendix A examples it supports, and on what it must refuse.
@Suite("CBOR reader")
struct CBORTests {
    static func hex(_ text: String) -> Data {
        Data(stride(from: 0, to: text.count, by: 2).map { UInt8(text.dropFirst($0).prefix(2), radix: 16)! })
    }

    @Test func readsTheSpecificationExamples() throws {
        #expect(try CBORReader.decode(Self.hex("00")) == .unsigned(0))
        #expect(try CBORReader.decode(Self.hex("17")) == .unsigned(23))
        #expect(try CBORReader.decode(Self.hex("1818")) == .unsigned(24))
        #expect(try CBORReader.decode(Self.hex("1903e8")) == .unsigned(1000))
        #expect(try CBORReader.decode(Self.hex("1a000f4240")) == .unsigned(1_000_000))
        #expect(try CBORReader.decode(Self.hex("1bffffffffffffffff")) == .unsigned(UInt64.max))
        #expect(try CBORReader.decode(Self.hex("20")).int == -1)
        #expect(try CBORReader.decode(Self.hex("3863")).int == -100)
        #expect(try CBORReader.decode(Self.hex("4401020304")) == .bytes(Data([1, 2, 3, 4])))
        #expect(try CBORReader.decode(Self.hex("6449455446")) == .text("IETF"))
        #expect(try CBORReader.decode(Self.hex("62c3bc")) == .text("ü"))
        #expect(try CBORReader.decode(Self.hex("83010203")) == .array([.unsigned(1), .unsigned(2), .unsigned(3)]))
        let map = try CBORReader.decode(Self.hex("a201020304"))
        #expect(map[1]?.int == 2 && map[3]?.int == 4)
        #expect(try CBORReader.decode(Self.hex("a26161016162820203"))["b"] == .array([.unsigned(2), .unsigned(3)]))
        #expect(try CBORReader.decode(Self.hex("f4")) == .bool(false))
        #expect(try CBORReader.decode(Self.hex("f5")) == .bool(true))
        #expect(try CBORReader.decode(Self.hex("f6")) == .null)
    }

    @Test func refusesWhatAuthenticatorsNeverSendAndBrokenData() {
        for (bytes, why) in [
            ("5f42010243030405ff", "indefinite"), ("f93c00", "float"), ("c074", "tag"), ("1c", "reserved"),
            ("44010203", "past the end"), ("9a7fffffff", "past the end"), ("62c328", "UTF-8"), ("a201020103", "repeats"),
            ("0000", "follow"), ("", "ends"),
        ] {
            #expect(throws: CBORError.self, "\(why)") { try CBORReader.decode(Self.hex(bytes)) }
        }
        // Nesting beyond the limit: 17 arrays inside each other.
        let deep = Data(repeating: 0x81, count: 17) + Data([0x00])
        #expect(throws: CBORError.self) { try CBORReader.decode(deep) }
    }

    @Test func aReaderSaysWhereAnItemEnds() throws {
        var reader = CBORReader(Self.hex("0102ff"))
        #expect(try reader.read() == .unsigned(1) && reader.offset == 1)
        #expect(try reader.read() == .unsigned(2) && reader.offset == 2)
        #expect(!reader.isAtEnd)
    }

    @Test func encodedItemsReadBack() throws {
        let item = CBOR.map([
            .text("fmt"): .text("none"), .unsigned(300): .bytes(Data(repeating: 7, count: 300)), .negative(65_536): .array([.null, .bool(true)]),
        ])
        #expect(try CBORReader.decode(CBOREncoder.encode(item)) == item)
    }
}
