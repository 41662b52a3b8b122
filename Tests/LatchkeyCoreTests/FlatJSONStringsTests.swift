import Foundation
import LatchkeyCore
import Testing

/// The short reader of flat string objects agrees with `JSONSerialization` on everything it reads, and reads
/// nothing it could get wrong.
@Suite("Flat JSON strings")
struct FlatJSONStringsTests {
    static func parse(_ text: String) -> [String: String]? {
        Array(text.utf8).withUnsafeBytes { FlatJSONStrings.parse($0) }
    }

    @Test(arguments: [
        #"{}"#,
        #"{"a":"b"}"#,
        " {\n\t\"a\" : \"b\" ,\r\n \"c\":\"\" } ",
        #"{"quote":"say \"hi\"","slash":"a\/b/c","back":"c:\\d","ctl":"\b\f\n\r\t"}"#,
        #"{"unicode":"é🔑 ok"}"#,
    ])
    func readsWhatJSONSerializationReads(text: String) throws {
        let expected = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(Self.parse(text) == expected)
    }

    @Test(arguments: [
        "", "[]", #""a""#, "{", #"{"a":"b""#, #"{"a":"b"} x"#, #"{"a":"b",}"#, #"{"a":1}"#, #"{"a":null}"#,
        #"{"a":{"b":"c"}}"#, #"{"a":["b"]}"#, #"{"a":"b","a":"c"}"#, #"{"a":"\u0041"}"#, #"{"a":"\x"}"#,
        "{\"a\":\"line\nbreak\"}", #"{a:"b"}"#,
    ])
    func leavesEverythingElseToTheGeneralReader(text: String) {
        #expect(Self.parse(text) == nil)
    }

    @Test func invalidUTF8IsNotRepaired() {
        var bytes = Array(#"{"a":"x"#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""}"#.utf8)
        #expect(bytes.withUnsafeBytes { FlatJSONStrings.parse($0) } == nil)
    }

    @Test func secretsReadBackExactlyWhicheverWayTheyAreRead() throws {
        let secret = CredentialSecret(
            accessToken: "gho_\"quoted\"\\slash/é🔑\n",
            refreshToken: "r_1",
            tokenType: "bearer",
            apiKey: nil,
            username: "alice",
            password: "p\u{01}w"
        )
        let written = try JSONEncoder().encode(secret)
        #expect(try CredentialSecret.decode(written) == secret)
        // Shapes the short reader leaves alone: nulls, fields it does not know, \u escapes.
        let withNull = Data(#"{"accessToken":"a","refreshToken":null}"#.utf8)
        #expect(try CredentialSecret.decode(withNull) == CredentialSecret(accessToken: "a"))
        let withUnknown = Data(#"{"accessToken":"a","raw":{"scope":"x"}}"#.utf8)
        #expect(try CredentialSecret.decode(withUnknown) == CredentialSecret(accessToken: "a"))
        let escaped = Data(#"{"apiKey":"k\u0041"}"#.utf8)
        #expect(try CredentialSecret.decode(escaped) == CredentialSecret(apiKey: "kA"))
        #expect(throws: (any Error).self) { try CredentialSecret.decode(Data("not json".utf8)) }
    }
}
