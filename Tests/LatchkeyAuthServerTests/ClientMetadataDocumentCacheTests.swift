import Foundation
import LatchkeyAuthServer
import Testing

@Suite struct ClientMetadataDocumentCacheTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func document(_ id: String) -> ClientMetadataDocument {
        ClientMetadataDocument(clientID: id, redirectURIs: ["https://app.example/cb"])
    }

    @Test(
        arguments: [
            (nil, 300),
            ("max-age=60", 60),
            ("public, max-age=600", 600),
            ("MAX-AGE=\"120\", must-revalidate", 120),
            ("max-age=86400", 3600),
            ("private", 300),
            ("no-store", nil),
            ("max-age=600, no-cache", nil),
            ("max-age=0", nil),
            ("max-age=soon", nil),
        ] as [(String?, Double?)]
    )
    func cacheControlSetsHowLongADocumentIsKept(header: String?, seconds: Double?) {
        #expect(ClientMetadataDocumentCache.lifetime(cacheControl: header, defaultLifetime: 300, maximum: 3600) == seconds)
    }

    @Test func aDocumentIsFreshUntilItsLifetimeEnds() {
        var cache = ClientMetadataDocumentCache(capacity: 10)
        cache.store(document("a"), for: "a", lifetime: 60, now: start)
        #expect(cache.document(for: "a", now: start.addingTimeInterval(59)) == document("a"))
        #expect(cache.document(for: "a", now: start.addingTimeInterval(60)) == nil)
        #expect(cache.document(for: "b", now: start) == nil)
    }

    @Test func aFullCachePushesOutExpiredDocumentsFirstThenTheOneClosestToExpiring() {
        var cache = ClientMetadataDocumentCache(capacity: 2)
        cache.store(document("short"), for: "short", lifetime: 10, now: start)
        cache.store(document("long"), for: "long", lifetime: 600, now: start)
        cache.store(document("new"), for: "new", lifetime: 300, now: start.addingTimeInterval(20))
        #expect(cache.count == 2)
        #expect(cache.document(for: "long", now: start.addingTimeInterval(20)) != nil)

        cache.store(document("newest"), for: "newest", lifetime: 900, now: start.addingTimeInterval(30))
        #expect(cache.count == 2)
        #expect(cache.document(for: "new", now: start.addingTimeInterval(30)) == nil)
        #expect(cache.document(for: "long", now: start.addingTimeInterval(30)) != nil)
        #expect(cache.document(for: "newest", now: start.addingTimeInterval(30)) != nil)
    }
}
