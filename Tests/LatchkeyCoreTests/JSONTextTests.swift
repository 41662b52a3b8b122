import Foundation
import LatchkeyCore
import Testing

/// JSON text written without `JSONEncoder` reads back, through `JSONSerialization`, as exactly the values written.
@Suite("JSON text")
struct JSONTextTests {
    static let awkward = ["", "plain", "say \"hi\"", "c:\\dir", "a/b", "\u{00}\u{01}\u{1F}\u{08}\u{0C}\n\r\t", "é🔑", "\u{2028}"]

    @Test func objectsAndArraysReadBackExactly() throws {
        var map: [String: String] = [:]
        for (index, value) in Self.awkward.enumerated() { map["k\(index)\(value)"] = value }
        let object = JSONText.object(map)
        #expect(try JSONSerialization.jsonObject(with: Data(object.utf8)) as? [String: String] == map)
        let array = JSONText.array(Self.awkward)
        #expect(try JSONSerialization.jsonObject(with: Data(array.utf8)) as? [String] == Self.awkward)
        #expect(JSONText.object([:]) == "{}" && JSONText.array([]) == "[]")
    }

    @Test func objectKeysAreSortedSoTheSameMapIsTheSameText() {
        #expect(JSONText.object(["b": "2", "a": "1", "c": "/"]) == #"{"a":"1","b":"2","c":"/"}"#)
        #expect(JSONText.array(["x\"y", "\u{01}"]) == #"["x\"y","\u0001"]"#)
    }
}
