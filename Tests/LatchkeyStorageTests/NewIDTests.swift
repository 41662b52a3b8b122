import Foundation
import LatchkeyStorage
import Testing

@Suite("New ids")
struct NewIDTests {
    @Test func idsAreLowercaseVersion4UUIDsAndDoNotRepeat() throws {
        let ids = (0..<2000).map { _ in NewID.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(200) {
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
        }
    }
}
