import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A mail server on 127.0.0.1 for tests: it answers like a small SMTP server, records every command line it was sent
/// and hands over the messages it accepted. `Behaviour` makes it offer STARTTLS (and then refuse it), ask for
/// authentication, refuse recipients or never answer.
public final class FakeSMTPServer: Sendable {
    public struct Behaviour: Sendable {
        /// Say STARTTLS in the EHLO answer.
        public var offersStartTLS = false
        /// The AUTH mechanisms offered (empty: no AUTH line).
        public var authMechanisms: [String] = []
        /// Answer RCPT TO with 550.
        public var rejectsRecipients = false
        /// Accept the connection and say nothing.
        public var silent = false

        public init(offersStartTLS: Bool = false, authMechanisms: [String] = [], rejectsRecipients: Bool = false, silent: Bool = false) {
            self.offersStartTLS = offersStartTLS
            self.authMechanisms = authMechanisms
            self.rejectsRecipients = rejectsRecipients
            self.silent = silent
        }
    }

    /// A message the server accepted.
    public struct Message: Sendable, Equatable {
        public var from: String
        public var recipients: [String]
        /// The DATA as received, dot-stuffing still in place, without the final "." line.
        public var data: String

        /// The body after the headers, with dot-stuffing undone.
        public var body: String {
            let parts = data.components(separatedBy: "\r\n\r\n")
            return parts.dropFirst().joined(separator: "\r\n\r\n").components(separatedBy: "\r\n")
                .map { $0.hasPrefix("..") ? String($0.dropFirst()) : $0 }.joined(separator: "\n")
        }
    }

    private struct State {
        var commands: [String] = []
        var messages: [Message] = []
        var waiters: [CheckedContinuation<Message, Never>] = []
        var delivered = 0
    }

    public let port: Int
    private let behaviour: Behaviour
    private let state = Mutex(State())

    private init(port: Int, behaviour: Behaviour) {
        self.port = port
        self.behaviour = behaviour
    }

    /// Every command line received, in order (AUTH lines included: tests check what was sent).
    public var commands: [String] { state.withLock { $0.commands } }

    /// The messages accepted so far.
    public var messages: [Message] { state.withLock { $0.messages } }

    /// Waits for the next message not yet handed out.
    public func nextMessage() async -> Message {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Message? in
                if state.delivered < state.messages.count {
                    state.delivered += 1
                    return state.messages[state.delivered - 1]
                }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Runs a server for the duration of `body`.
    public static func run<T: Sendable>(_ behaviour: Behaviour = Behaviour(), _ body: @Sendable (FakeSMTPServer) async throws -> T) async throws -> T
    {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let server = FakeSMTPServer(port: listener.channel.localAddress?.port ?? 0, behaviour: behaviour)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await listener.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { connectionTasks in
                        for try await connection in connections {
                            connectionTasks.addTask { try? await server.serve(connection) }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            let result = try await body(server)
            listener.channel.close(promise: nil)
            return result
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            if behaviour.silent {
                for try await _ in inbound {}
                return
            }
            func say(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text + "\r\n")) }
            try await say("220 fake.smtp ESMTP ready")
            var pending: [UInt8] = []
            var inData = false
            var dataLines: [String] = []
            var from = ""
            var recipients: [String] = []
            var authLoginStep = 0
            for try await buffer in inbound {
                pending += buffer.readableBytesView
                while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    var bytes = Array(pending[..<end])
                    pending.removeSubrange(...end)
                    if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                    let line = String(decoding: bytes, as: UTF8.self)
                    if inData {
                        if line == "." {
                            inData = false
                            let message = Message(from: from, recipients: recipients, data: dataLines.joined(separator: "\r\n"))
                            deliver(message)
                            dataLines = []
                            try await say("250 2.0.0 queued")
                        } else {
                            dataLines.append(line)
                        }
                        continue
                    }
                    state.withLock { $0.commands.append(line) }
                    let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
                    if authLoginStep > 0 {
                        authLoginStep += 1
                        try await say(authLoginStep == 2 ? "334 UGFzc3dvcmQ6" : "235 2.7.0 accepted")
                        if authLoginStep == 3 { authLoginStep = 0 }
                        continue
                    }
                    switch verb {
                    case "EHLO":
                        var lines = ["fake.smtp", "8BITMIME"]
                        if behaviour.offersStartTLS { lines.append("STARTTLS") }
                        if !behaviour.authMechanisms.isEmpty { lines.append("AUTH " + behaviour.authMechanisms.joined(separator: " ")) }
                        for (index, text) in lines.enumerated() { try await say("250\(index == lines.count - 1 ? " " : "-")\(text)") }
                    case "STARTTLS": try await say("454 4.7.0 TLS not available")
                    case "AUTH":
                        if line.uppercased().hasPrefix("AUTH LOGIN") {
                            authLoginStep = 1
                            try await say("334 VXNlcm5hbWU6")
                        } else {
                            try await say("235 2.7.0 accepted")
                        }
                    case "MAIL":
                        from = Self.address(line)
                        recipients = []
                        try await say("250 2.1.0 ok")
                    case "RCPT":
                        if behaviour.rejectsRecipients {
                            try await say("550 5.1.1 no such user")
                        } else {
                            recipients.append(Self.address(line))
                            try await say("250 2.1.5 ok")
                        }
                    case "DATA":
                        inData = true
                        try await say("354 end with .")
                    case "QUIT":
                        try await say("221 bye")
                        return
                    default: try await say("502 5.5.2 not implemented")
                    }
                }
            }
        }
    }

    private func deliver(_ message: Message) {
        let waiter = state.withLock { state -> CheckedContinuation<Message, Never>? in
            state.messages.append(message)
            guard !state.waiters.isEmpty else { return nil }
            state.delivered += 1
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: message)
    }

    private static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }
}
