public import Foundation
public import LatchkeyOAuthClient

/// A webhook receiver behind an ``HTTPTransport``: answers each delivery as scripted (a status, a time-out, or no
/// answer at all) and records every request.
public actor FakeWebhookReceiver: HTTPTransport {
    public enum Answer: Sendable, Equatable {
        case status(Int)
        case timeout
        case unreachable
    }

    /// Every request received, in order.
    public private(set) var requests: [OutboundRequest] = []
    private var script: [Answer]
    private var otherwise: Answer

    /// Answers with `answers` in turn, then with `otherwise`.
    public init(answers: [Answer] = [], otherwise: Answer = .status(200)) {
        self.script = answers
        self.otherwise = otherwise
    }

    /// Replaces the script.
    public func answer(with answers: [Answer] = [], otherwise: Answer) {
        script = answers
        self.otherwise = otherwise
    }

    /// The `Latchkey-Delivery` header of every request, in order.
    public var deliveryIDs: [String] { requests.compactMap { $0.header("Latchkey-Delivery") } }

    /// The body of every request, in order.
    public var bodies: [Data] { requests.compactMap(\.body) }

    /// The `id` of every event received, in order.
    public var eventIDs: [String] {
        bodies.compactMap { (try? JSONSerialization.jsonObject(with: $0) as? [String: Any])?["id"] as? String }
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        requests.append(request)
        let answer = script.isEmpty ? otherwise : script.removeFirst()
        // Let other senders interleave, as a network would.
        for _ in 0..<5 { await Task.yield() }
        let host = request.url.host ?? ""
        switch answer {
        case .status(let status): return OutboundResponse(status: status, body: Data("ok".utf8))
        case .timeout: throw OutboundError.timedOut(host: host)
        case .unreachable: throw OutboundError.unreachable(host: host)
        }
    }
}
