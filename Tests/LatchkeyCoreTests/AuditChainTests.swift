import Foundation
import LatchkeyCore
import Testing

@Suite("Audit hash chain")
struct AuditChainTests {
    func chain(_ count: Int) -> [AuditEvent] {
        var events: [AuditEvent] = []
        var prev = AuditChain.genesis
        for seq in 1...count {
            let event = AuditChain.link(
                AuditRecord(actor: "admin_key:1", action: "credential.reveal", target: "c\(seq)", details: ["n": "\(seq)"]),
                tenantID: "t",
                seq: seq,
                id: "e\(seq)",
                timestamp: Date(timeIntervalSince1970: Double(1_800_000_000 + seq)),
                prevHash: prev
            )
            prev = event.hash
            events.append(event)
        }
        return events
    }

    func verify(_ events: [AuditEvent], head: (Int, String)?) -> [AuditChain.Problem] {
        var verifier = AuditChain.Verifier()
        for event in events { verifier.consume(event) }
        verifier.finish(headSeq: head?.0, headHash: head?.1)
        return verifier.problems
    }

    @Test func anUntouchedChainVerifies() {
        let events = chain(10)
        #expect(verify(events, head: (10, events.last!.hash)).isEmpty)
        #expect(events[0].prevHash == AuditChain.genesis)
        #expect(events[1].prevHash == events[0].hash)
    }

    @Test(arguments: ["actor", "action", "target", "result", "details", "timestamp", "ip"])
    func anEditedFieldIsFound(field: String) {
        var events = chain(5)
        switch field {
        case "actor": events[2].actor = "someone-else"
        case "action": events[2].action = "credential.create"
        case "target": events[2].target = "other"
        case "result": events[2].result = "failure"
        case "details": events[2].details["n"] = "99"
        case "timestamp": events[2].timestamp = events[2].timestamp.addingTimeInterval(1)
        default: events[2].ip = "10.0.0.1"
        }
        let problems = verify(events, head: (5, events.last!.hash))
        #expect(problems.first == .init(kind: .edited, seq: 3))
    }

    @Test func anEditWithARecomputedHashBreaksTheNextLink() {
        var events = chain(5)
        events[2].target = "forged"
        events[2].hash = AuditChain.hash(of: events[2])
        #expect(verify(events, head: (5, events.last!.hash)).contains { $0.seq == 4 })
    }

    @Test func aDeletedEventIsFound() {
        var events = chain(5)
        events.remove(at: 2)
        #expect(verify(events, head: (5, events.last!.hash)).first == .init(kind: .missing, seq: 4))
    }

    @Test func reorderedEventsAreFound() {
        var events = chain(5)
        events.swapAt(1, 3)
        #expect(!verify(events, head: (5, chain(5).last!.hash)).isEmpty)
    }

    @Test func deletingTheNewestEventsIsFoundThroughTheHead() {
        let full = chain(5)
        let truncated = Array(full.prefix(3))
        #expect(verify(truncated, head: (5, full.last!.hash)).first?.kind == .truncated)
    }
}

@Suite("Audit chain hash")
struct AuditChainHashTests {
    /// Chains written by earlier versions must keep verifying: the hash of a fixed event is pinned.
    @Test func theHashOfAFixedEventNeverChanges() {
        let event = AuditEvent(
            tenantID: "t-1",
            seq: 42,
            id: "0b4e7c1a-2b5c-4c8f-9d3e-1a2b3c4d5e6f",
            timestamp: Date(unixMilliseconds: 1_765_000_000_123),
            actor: "admin_key:k1",
            action: "credential.token",
            target: "c-1",
            service: "github",
            tool: nil,
            result: "success",
            ip: "127.0.0.1",
            userAgent: "é🔑/1.0",
            details: ["b": "2", "access_token_fp": "fp_0123456789abcdef"],
            prevHash: String(repeating: "0", count: 64),
            hash: ""
        )
        #expect(AuditChain.hash(of: event) == "b00ba354044592c36df9661b473efd5d307e128b77e89edd837333482015ba3b")
    }
}
