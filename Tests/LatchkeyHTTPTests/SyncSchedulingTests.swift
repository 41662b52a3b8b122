import Foundation
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import Testing

/// The pure parts of reference-data sync: when jobs run, how much of a budget the sync takes, how pages are walked.
@Suite("Sync scheduling, pacing and paging")
struct SyncSchedulingTests {
    static let catalog = try! ProviderCatalog.bundled()

    @Test func runsOfAThousandCredentialsAreSpreadOverTheIntervalAndKeepTheirPhase() {
        let schedule = SyncSchedule()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let interval: TimeInterval = 86_400
        var buckets = [Int](repeating: 0, count: 24)
        for index in 0..<1000 {
            let id = UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index))!.uuidString.lowercased()
            let next = schedule.nextRun(credentialID: id, interval: interval, now: now)
            #expect(next.timeIntervalSince(now) >= interval / 2 && next.timeIntervalSince(now) <= interval * 1.5)
            buckets[Int(next.timeIntervalSince1970.truncatingRemainder(dividingBy: interval) / 3600)] += 1
            // The run after keeps the same phase, one interval later.
            #expect(schedule.nextRun(credentialID: id, interval: interval, now: next) == next.addingTimeInterval(interval))
            let first = schedule.firstRun(credentialID: id, interval: interval, now: now)
            #expect(first >= now && first < now.addingTimeInterval(900))
        }
        // About 42 an hour: no hour holds more than twice its share, none is empty.
        #expect(buckets.allSatisfy { $0 > 10 && $0 < 84 }, "\(buckets)")
    }

    @Test func retriesBackOffUpToTheIntervalOrWaitForTheProvider() {
        let schedule = SyncSchedule(retryBase: 60)
        let now = Date(timeIntervalSince1970: 0)
        let waits = (1...12).map { schedule.retry(failures: $0, interval: 3600, retryAfter: nil, now: now).timeIntervalSince(now) }
        #expect(Array(waits.prefix(4)) == [60, 120, 240, 480])
        #expect(waits.last == 3600)
        #expect(schedule.retry(failures: 5, interval: 3600, retryAfter: 30, now: now).timeIntervalSince(now) == 30)
    }

    @Test func theSyncTakesAtMostItsFractionOfTheBudgetAndNothingNearTheHighWaterMark() {
        let pacer = SyncPacer(fraction: 0.2)
        let start = Date(timeIntervalSince1970: 1000)
        let admitted = (0..<5).map { _ in pacer.admit(connectionID: "c", budget: 10, window: 60, used: 0, highWater: 8, now: start) == nil }
        #expect(admitted == [true, true, false, false, false])
        #expect(pacer.admit(connectionID: "c", budget: 10, window: 60, used: 0, highWater: 8, now: start.addingTimeInterval(61)) == nil)
        #expect(pacer.admit(connectionID: "other", budget: 10, window: 60, used: 8, highWater: 8, now: start) != nil)
        #expect(pacer.calls(connectionID: "c", window: 60, now: start.addingTimeInterval(61)) == 1)
    }

    @Test func cursorPagesFollowTheToolsCursorAndKeepOnlyTheDatasetsFields() throws {
        let found = try #require(Self.catalog.dataset(named: "slack.channels"))
        let paging = SyncPaging(dataset: found.dataset, tool: found.tool)
        let first = try paging.call(cursor: nil, since: nil)
        #expect(first.path == "conversations.list")
        #expect(first.queryString?.contains("limit=200") == true && first.queryString?.contains("cursor") == false)
        #expect(try paging.call(cursor: "dXNlcjpVMDYx", since: nil).queryString?.contains("cursor=dXNlcjpVMDYx") == true)
        let body =
            #"{"ok":true,"channels":[{"id":"C1","name":"sales","created":1,"topic":{"value":"Deals","creator":"U1"}},{"name":"no-id"}],"response_metadata":{"next_cursor":"abc"}}"#
        let page = try #require(paging.read(Data(body.utf8), cursor: nil))
        #expect(page.records.map(\.key) == ["C1"])
        #expect(page.records[0].fields == .object(["id": .string("C1"), "name": .string("sales"), "topic": .object(["value": .string("Deals")])]))
        #expect(page.next == "abc")
        let last = try #require(paging.read(Data(#"{"ok":true,"channels":[],"response_metadata":{"next_cursor":""}}"#.utf8), cursor: "abc"))
        #expect(last.next == nil)
        #expect(paging.read(Data(#"{"ok":true}"#.utf8), cursor: nil) == nil)
    }

    @Test func aSearchDatasetKeepsOnlyMatchingRecords() throws {
        let found = try #require(Self.catalog.dataset(named: "notion.databases"))
        let paging = SyncPaging(dataset: found.dataset, tool: found.tool)
        let call = try paging.call(cursor: "c2", since: nil)
        #expect(call.method == "POST")
        let sent = try #require(call.body.flatMap { JSONValue.parse($0) })
        #expect(sent["start_cursor"] == .string("c2") && sent["page_size"] == .integer(100))
        let body = #"{"results":[{"object":"page","id":"p1"},{"object":"database","id":"d1","url":"u"}],"has_more":false,"next_cursor":null}"#
        let page = try #require(paging.read(Data(body.utf8), cursor: "c2"))
        #expect(page.records.map(\.key) == ["d1"] && page.next == nil)
    }
}
