import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Hands plain-text messages to one mail server (RFC 5321): EHLO, STARTTLS when the settings require it, AUTH PLAIN
/// (or LOGIN) only over TLS or to a loopback host, then MAIL FROM, RCPT TO and DATA. One connection per message; the
/// whole exchange is bounded by `timeout`.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    /// How long connecting and the whole exchange may take.
    public var timeout: Duration = .seconds(30)
    /// The TLS settings of STARTTLS (the system's trust roots, the host name checked).
    var tlsConfiguration: TLSConfiguration = .makeClientConfiguration()
    let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    /// Sends `message`; throws `SMTPError` saying what went wrong.
    public func send(_ message: EmailMessage) async throws(SMTPError) {
        guard SMTPSettings.isPlainAddress(message.from), SMTPSettings.isPlainAddress(message.to) else { throw .invalidAddress }
        let settings = settings
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            throw .unreachable(host: settings.host, port: settings.port)
        }
        let timeout = timeout
        let tls = tlsConfiguration
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    try await channel.executeThenClose { inbound, outbound in
                        var session = SMTPSession(
                            settings: settings,
                            inbound: inbound.makeAsyncIterator(),
                            outbound: outbound,
                            channel: channel.channel,
                            tls: tls
                        )
                        try await session.deliver(message)
                    }
                }
                tasks.addTask {
                    try await Task.sleep(for: timeout)
                    channel.channel.close(promise: nil)
                    throw SMTPError.timedOut(host: settings.host)
                }
                defer { tasks.cancelAll() }
                try await tasks.next()
            }
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .connectionLost(host: settings.host)
        }
    }
}

/// One conversation with the server, command by command.
struct SMTPSession {
    let settings: SMTPSettings
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let tls: TLSConfiguration
    var pending: [UInt8] = []
    var secure = false

    mutating func deliver(_ message: EmailMessage) async throws {
        _ = try await reply(stage: "the connection", expect: [220])
        var extensions = try await command("EHLO \(settings.heloName)", stage: "EHLO", expect: [250])
        if settings.security == .required {
            guard extensions.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                throw SMTPError.startTLSUnavailable(host: settings.host)
            }
            _ = try await command("STARTTLS", stage: "STARTTLS", expect: [220])
            try await startTLS()
            do {
                extensions = try await command("EHLO \(settings.heloName)", stage: "EHLO", expect: [250])
            } catch let error as SMTPError {
                throw error
            } catch {
                throw SMTPError.tlsFailed(host: settings.host)
            }
        }
        if let username = settings.username, let password = settings.password {
            guard settings.allowsCredentials(overTLS: secure) else { throw SMTPError.authenticationNeedsTLS(host: settings.host) }
            try await authenticate(username: username, password: password, extensions: extensions)
        }
        _ = try await command("MAIL FROM:<\(message.from)>", stage: "the sender", expect: [250])
        _ = try await command("RCPT TO:<\(message.to)>", stage: "the recipient", expect: [250, 251])
        _ = try await command("DATA", stage: "the message", expect: [354])
        let id = "\(UUID().uuidString.lowercased())@\(settings.heloName)"
        try await write(message.data(messageID: id))
        _ = try await reply(stage: "the message", expect: [250])
        try? await write("QUIT\r\n")
    }

    private mutating func authenticate(username: String, password: String, extensions: [String]) async throws {
        let mechanisms = Set(
            extensions.filter { $0.uppercased().hasPrefix("AUTH") }.flatMap {
                $0.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).dropFirst()
            }
            .map(String.init)
        )
        if mechanisms.contains("PLAIN") {
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            _ = try await command("AUTH PLAIN \(token)", stage: "the SMTP username and password", expect: [235])
        } else if mechanisms.contains("LOGIN") {
            _ = try await command("AUTH LOGIN", stage: "AUTH LOGIN", expect: [334])
            _ = try await command(Data(username.utf8).base64EncodedString(), stage: "the SMTP username", expect: [334])
            _ = try await command(Data(password.utf8).base64EncodedString(), stage: "the SMTP username and password", expect: [235])
        } else {
            throw SMTPError.authenticationUnsupported(host: settings.host)
        }
    }

    private mutating func startTLS() async throws {
        let host = settings.host
        let context = try NIOSSLContext(configuration: tls)
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        try await channel.eventLoop.submit { [channel] in
            let handler = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        }.get()
        secure = true
    }

    /// Sends one command line and reads its reply; the server's extension lines for EHLO.
    private mutating func command(_ line: String, stage: String, expect: Set<Int>) async throws -> [String] {
        try await write(line + "\r\n")
        return try await reply(stage: stage, expect: expect)
    }

    private func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads one reply (all its lines) and checks its code.
    private mutating func reply(stage: String, expect: Set<Int>) async throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try await readLine()
            guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPError.malformedReply }
            let separator = line.dropFirst(3).first
            lines.append(String(line.dropFirst(4)))
            if separator == "-" { continue }
            guard separator == nil || separator == " " else { throw SMTPError.malformedReply }
            guard expect.contains(code) else { throw SMTPError.rejected(stage: stage, reply: code, text: lines.joined(separator: " ")) }
            return lines
        }
    }

    private mutating func readLine() async throws -> String {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(pending[..<end])
                pending.removeSubrange(...end)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard pending.count < 4096 else { throw SMTPError.malformedReply }
            guard let buffer = try await inbound.next() else { throw SMTPError.connectionLost(host: settings.host) }
            pending += buffer.readableBytesView
        }
    }
}
