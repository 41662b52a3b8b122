/// Why a message could not be handed to the mail server, in words for the operator's log. Never holds the
/// password or the message.
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case unreachable
        case timedOut
        case startTLSUnavailable
        case authenticationNeedsTLS
        case authenticationUnsupported
        case rejected(stage: String, reply: Int)
        case malformedReply
        case invalidAddress
        case tlsFailed
        case connectionLost
    }

    let code: Code
    public let description: String

    /// The server could not be reached.
    public static func unreachable(host: String, port: Int) -> SMTPError {
        SMTPError(code: .unreachable, description: "The mail server \(host):\(port) cannot be reached. Check the SMTP host and port.")
    }

    /// The server stopped answering.
    public static func timedOut(host: String) -> SMTPError {
        SMTPError(code: .timedOut, description: "The mail server \(host) did not answer in time.")
    }

    /// STARTTLS is required but the server does not offer it.
    public static func startTLSUnavailable(host: String) -> SMTPError {
        SMTPError(
            code: .startTLSUnavailable,
            description:
                "The mail server \(host) does not offer STARTTLS, which the settings require. Use a server that does, or set the SMTP STARTTLS setting to off for a relay on this machine."
        )
    }

    /// Credentials would be sent in plain text to another machine.
    public static func authenticationNeedsTLS(host: String) -> SMTPError {
        SMTPError(
            code: .authenticationNeedsTLS,
            description: "The SMTP password is only sent over STARTTLS or to a server on this machine; \(host) is neither. Require STARTTLS."
        )
    }

    /// The server offers neither AUTH PLAIN nor AUTH LOGIN.
    public static func authenticationUnsupported(host: String) -> SMTPError {
        SMTPError(code: .authenticationUnsupported, description: "The mail server \(host) offers neither AUTH PLAIN nor AUTH LOGIN.")
    }

    /// The server answered a command with an error; `text` is its own words (never an echo of a secret we sent).
    public static func rejected(stage: String, reply: Int, text: String) -> SMTPError {
        SMTPError(code: .rejected(stage: stage, reply: reply), description: "The mail server refused \(stage): \(reply) \(text.prefix(200))")
    }

    /// The server said something that is not an SMTP reply.
    public static let malformedReply = SMTPError(code: .malformedReply, description: "The mail server's answer is not SMTP.")

    /// A sender or recipient that cannot be written into a message safely.
    public static let invalidAddress = SMTPError(code: .invalidAddress, description: "The email address cannot be used: it is not a plain address.")

    /// The server closed the connection in the middle of the exchange.
    public static func connectionLost(host: String) -> SMTPError {
        SMTPError(code: .connectionLost, description: "The mail server \(host) closed the connection before the message was accepted.")
    }

    /// The TLS handshake after STARTTLS failed.
    public static func tlsFailed(host: String) -> SMTPError {
        SMTPError(code: .tlsFailed, description: "The TLS handshake with the mail server \(host) failed. Check its certificate.")
    }
}
