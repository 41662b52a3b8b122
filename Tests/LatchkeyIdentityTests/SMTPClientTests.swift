import Foundation
import LatchkeyIdentity
import LatchkeyTesting
import Testing

/// The SMTP client against an in-process server on 127.0.0.1: the commands it sends, the message the server gets,
/// and what it refuses to do.
@Suite("SMTP client")
struct SMTPClientTests {
    static func message(to: String = "alice@example.com", body: String = "Your code is 123456.") -> EmailMessage {
        EmailMessage(from: "latchkey@example.com", to: to, subject: "Your sign-in code", body: body, date: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func sendsTheMessageWithDotStuffing() async throws {
        try await FakeSMTPServer.run { server in
            let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: server.port, from: "latchkey@example.com"))
            try await client.send(Self.message(body: "line one\n.starts with a dot\n.\nlast"))
            let received = await server.nextMessage()
            #expect(received.from == "latchkey@example.com")
            #expect(received.recipients == ["alice@example.com"])
            #expect(received.data.contains("\r\n..starts with a dot\r\n..\r\nlast"))
            #expect(received.body == "line one\n.starts with a dot\n.\nlast")
            #expect(received.data.contains("Subject: Your sign-in code\r\n"))
            #expect(server.commands.prefix(4) == ["EHLO localhost", "MAIL FROM:<latchkey@example.com>", "RCPT TO:<alice@example.com>", "DATA"])
        }
    }

    @Test func loopbackDefaultsToPlainTextAndOtherHostsRequireStartTLS() {
        #expect(SMTPSettings(host: "127.0.0.1", from: "a@example.com").security == .off)
        #expect(SMTPSettings(host: "localhost", from: "a@example.com").security == .off)
        #expect(SMTPSettings(host: "smtp.example.com", from: "a@example.com").security == .required)
        #expect(SMTPSettings(host: "smtp.example.com", security: .off, from: "a@example.com").security == .off)
    }

    @Test func credentialsGoOnlyOverTLSOrToThisMachine() {
        let remote = SMTPSettings(host: "smtp.example.com", security: .off, username: "u", password: "p", from: "a@example.com")
        #expect(!remote.allowsCredentials(overTLS: false))
        #expect(remote.allowsCredentials(overTLS: true))
        #expect(
            remote.problem == "The SMTP password would be sent in plain text to smtp.example.com. Require STARTTLS, or use a relay on this machine."
        )
        #expect(SMTPSettings(host: "smtp.example.com", username: "u", password: "p", from: "a@example.com").problem == nil)
        #expect(SMTPSettings(host: "127.0.0.1", username: "u", password: "p", from: "a@example.com").problem == nil)
        #expect(
            SMTPSettings(host: "127.0.0.1", username: "u", from: "a@example.com").problem == "Give both the SMTP username and password, or neither."
        )
        #expect(SMTPSettings(host: "127.0.0.1", from: "latchkey").problem?.contains("from address") == true)
    }

    @Test func refusesAServerWithoutStartTLSWhenItIsRequired() async throws {
        try await FakeSMTPServer.run { server in
            let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: server.port, security: .required, from: "latchkey@example.com"))
            let error = await #expect(throws: SMTPError.self) { try await client.send(Self.message()) }
            #expect(error?.description.contains("does not offer STARTTLS") == true)
            #expect(server.messages.isEmpty)
            #expect(!server.commands.contains { $0.hasPrefix("MAIL") })
        }
    }

    @Test func authenticatesWithPlainToALoopbackServer() async throws {
        try await FakeSMTPServer.run(.init(authMechanisms: ["LOGIN", "PLAIN"])) { server in
            var settings = SMTPSettings(host: "127.0.0.1", port: server.port, username: "mailer", password: "s3cret", from: "latchkey@example.com")
            settings.heloName = "latchkey.example.com"
            try await SMTPClient(settings: settings).send(Self.message())
            _ = await server.nextMessage()
            let plain = Data([0] + Array("mailer".utf8) + [0] + Array("s3cret".utf8)).base64EncodedString()
            #expect(server.commands.prefix(2) == ["EHLO latchkey.example.com", "AUTH PLAIN \(plain)"])
        }
    }

    @Test func authenticatesWithLoginWhenPlainIsNotOffered() async throws {
        try await FakeSMTPServer.run(.init(authMechanisms: ["LOGIN"])) { server in
            let settings = SMTPSettings(host: "127.0.0.1", port: server.port, username: "mailer", password: "s3cret", from: "latchkey@example.com")
            try await SMTPClient(settings: settings).send(Self.message())
            _ = await server.nextMessage()
            #expect(
                server.commands.prefix(4) == [
                    "EHLO localhost", "AUTH LOGIN", Data("mailer".utf8).base64EncodedString(), Data("s3cret".utf8).base64EncodedString(),
                ]
            )
        }
    }

    @Test func aRefusedRecipientIsAClearErrorWithoutThePassword() async throws {
        try await FakeSMTPServer.run(.init(authMechanisms: ["PLAIN"], rejectsRecipients: true)) { server in
            let settings = SMTPSettings(host: "127.0.0.1", port: server.port, username: "mailer", password: "s3cret", from: "latchkey@example.com")
            let error = await #expect(throws: SMTPError.self) { try await SMTPClient(settings: settings).send(Self.message()) }
            #expect(error?.description == "The mail server refused the recipient: 550 5.1.1 no such user")
            #expect(server.messages.isEmpty)
            #expect(settings.description.contains("password set") && !settings.description.contains("s3cret"))
        }
    }

    @Test func refusesAddressesThatCouldInjectCommands() async throws {
        try await FakeSMTPServer.run { server in
            let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: server.port, from: "latchkey@example.com"))
            for address in [
                "alice@example.com>\r\nRCPT TO:<eve@example.com", "alice@example.com\nBcc: eve@example.com", "not-an-address", "a b@example.com",
            ] {
                await #expect(throws: SMTPError.invalidAddress) { try await client.send(Self.message(to: address)) }
            }
            #expect(server.commands.isEmpty)
        }
    }

    @Test func aSilentServerTimesOut() async throws {
        try await FakeSMTPServer.run(.init(silent: true)) { server in
            var client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: server.port, from: "latchkey@example.com"))
            client.timeout = .milliseconds(200)
            let error = await #expect(throws: SMTPError.self) { try await client.send(Self.message()) }
            #expect(error?.description == "The mail server 127.0.0.1 did not answer in time.")
        }
    }

    @Test func anUnreachableServerIsNamed() async throws {
        let port = try await FakeSMTPServer.run { $0.port }
        let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: port, from: "latchkey@example.com"))
        let error = await #expect(throws: SMTPError.self) { try await client.send(Self.message()) }
        #expect(error?.description.contains("cannot be reached") == true)
    }
}
