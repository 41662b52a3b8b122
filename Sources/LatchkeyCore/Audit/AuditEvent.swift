import Crypto
public import Foundation

/// What happened, by whom, to what: one link of a tenant's hash chain. Secrets appear only as fingerprints.
public struct AuditEvent: Sendable, Equatable, Codable {
    public var tenantID: String
    public var seq: Int
    public var id: String
    public var timestamp: Date
    public var actor: String
    public var action: String
    public var target: String?
    public var service: String?
    public var tool: String?
    public var result: String
    public var ip: String?
    public var userAgent: String?
    public var details: [String: String]
    public var prevHash: String
    public var hash: String

    public init(
        tenantID: String,
        seq: Int,
        id: String,
        timestamp: Date,
        actor: String,
        action: String,
        target: String?,
        service: String?,
        tool: String?,
        result: String,
        ip: String?,
        userAgent: String?,
        details: [String: String],
        prevHash: String,
        hash: String
    ) {
        self.tenantID = tenantID
        self.seq = seq
        self.id = id
        self.timestamp = timestamp
        self.actor = actor
        self.action = action
        self.target = target
        self.service = service
        self.tool = tool
        self.result = result
        self.ip = ip
        self.userAgent = userAgent
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// How an audited action ended.
public enum AuditResult: String, Sendable, Codable, CaseIterable {
    case success
    case failure
    /// Refused before anything was done (for example, an id probed from another tenant).
    case denied
}

/// An event before it joins the chain.
public struct AuditRecord: Sendable, Equatable {
    public var actor: String
    public var action: String
    public var target: String?
    public var service: String?
    public var tool: String?
    public var result: AuditResult
    public var ip: String?
    public var userAgent: String?
    public var details: [String: String]
    /// The person (a console user's or an end user's id) the record is about when that is not its actor: the
    /// identifiers of theirs it carries are sealed under their audit key (`AuditSeal`), which erasure destroys.
    public var person: String?

    public init(
        actor: String,
        action: String,
        target: String? = nil,
        service: String? = nil,
        tool: String? = nil,
        result: AuditResult = .success,
        ip: String? = nil,
        userAgent: String? = nil,
        details: [String: String] = [:],
        person: String? = nil
    ) {
        self.actor = actor
        self.action = action
        self.target = target
        self.service = service
        self.tool = tool
        self.result = result
        self.ip = ip
        self.userAgent = userAgent
        self.details = details
        self.person = person
    }
}

/// The hash chain: each event's hash covers its own fields and the previous event's hash.
public enum AuditChain {
    /// The hash before the first event of a tenant.
    public static let genesis = String(repeating: "0", count: 64)

    /// Links `record` after (`seq - 1`, `prevHash`).
    public static func link(_ record: AuditRecord, tenantID: String, seq: Int, id: String, timestamp: Date, prevHash: String) -> AuditEvent {
        var event = AuditEvent(
            tenantID: tenantID,
            seq: seq,
            id: id,
            timestamp: Date(unixMilliseconds: timestamp.unixMilliseconds),
            actor: record.actor,
            action: record.action,
            target: record.target,
            service: record.service,
            tool: record.tool,
            result: record.result.rawValue,
            ip: record.ip,
            userAgent: record.userAgent,
            details: record.details,
            prevHash: prevHash,
            hash: ""
        )
        event.hash = hash(of: event)
        return event
    }

    /// SHA-256 over a canonical, length-prefixed serialization of every field but the hash itself.
    public static func hash(of event: AuditEvent) -> String {
        var hasher = SHA256()
        func add(_ value: String?) {
            guard var text = value else {
                hasher.update(data: [0xFF])
                return
            }
            text.withUTF8 { bytes in
                var length = UInt32(bytes.count).bigEndian
                withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            }
        }
        add("latchkey-audit-v1")
        add(event.tenantID)
        add(String(event.seq))
        add(event.id)
        add(String(event.timestamp.unixMilliseconds))
        add(event.actor)
        add(event.action)
        add(event.target)
        add(event.service)
        add(event.tool)
        add(event.result)
        add(event.ip)
        add(event.userAgent)
        for key in event.details.keys.sorted() {
            add(key)
            add(event.details[key])
        }
        add(event.prevHash)
        return Data(hasher.finalize()).hexString
    }

    /// A break in the chain, with the first sequence number where it shows.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable { case edited, missing, reordered, truncated, checkpoint }
        public var kind: Kind
        public var seq: Int
        public init(kind: Kind, seq: Int) {
            self.kind = kind
            self.seq = seq
        }
        public var description: String {
            switch kind {
            case .edited: "event #\(seq) was edited (its hash does not match its contents)"
            case .missing: "an event is missing before #\(seq)"
            case .reordered: "event #\(seq) is out of order (it does not follow the event before it)"
            case .truncated: "events after #\(seq) were deleted (the chain head records a later event)"
            case .checkpoint: "the retention checkpoint at #\(seq) was not signed by this server's keyring (it was edited or forged)"
            }
        }
    }

    /// Incremental verification over events in storage order.
    public struct Verifier: Sendable {
        var expectedSeq = 1
        var prevHash = AuditChain.genesis
        public private(set) var count = 0
        public private(set) var problems: [Problem] = []

        public init() {}

        /// Starts after a retention checkpoint: the next event must be `checkpoint.seq + 1` and link to its hash.
        public init(startingAt checkpoint: AuditCheckpoint?) {
            guard let checkpoint else { return }
            expectedSeq = checkpoint.seq + 1
            prevHash = checkpoint.hash
        }

        /// Records a problem found outside the events (a checkpoint whose signature does not hold).
        public mutating func report(_ problem: Problem) {
            problems.append(problem)
        }

        public mutating func consume(_ event: AuditEvent) {
            count += 1
            if AuditChain.hash(of: event) != event.hash {
                problems.append(.init(kind: .edited, seq: event.seq))
            } else if event.seq > expectedSeq {
                problems.append(.init(kind: .missing, seq: event.seq))
            } else if event.prevHash != prevHash {
                problems.append(.init(kind: .reordered, seq: event.seq))
            } else if event.seq < expectedSeq {
                problems.append(.init(kind: .reordered, seq: event.seq))
            }
            expectedSeq = event.seq + 1
            prevHash = event.hash
        }

        /// Compares the end of the chain with the recorded head (catches deletion of the newest events).
        public mutating func finish(headSeq: Int?, headHash: String?) {
            guard let headSeq else { return }
            if headSeq != expectedSeq - 1 || (headHash != nil && headHash != prevHash) {
                problems.append(.init(kind: headSeq > expectedSeq - 1 ? .truncated : .edited, seq: max(expectedSeq - 1, 0)))
            }
        }
    }
}
