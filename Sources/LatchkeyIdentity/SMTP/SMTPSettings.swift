import Foundation

/// The mail server that email sign-in codes go through (`--smtp-*` flags, `LATCHKEY_SMTP_*` variables). Without
/// these settings the sign-in page offers no email code.
public struct SMTPSettings: Sendable, Equatable, CustomStringConvertible {
    /// Whether the connection must be upgraded with STARTTLS before anything else is said.
    public enum Security: String, Sendable, Equatable {
        /// STARTTLS is required; a server that does not offer it is refused.
        case required
        /// Plain text, for a relay on this machine (the default for a loopback host).
        case off
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// Sent with AUTH PLAIN (or LOGIN) when set, only over TLS or to a loopback host.
    public var username: String?
    /// Secret: never printed, logged or shown.
    public var password: String?
    /// The sender address of every message.
    public var from: String
    /// The name given in EHLO.
    public var heloName: String = "localhost"

    /// Settings for `host`; STARTTLS is required unless the host is this machine.
    public init(host: String, port: Int = 587, security: Security? = nil, username: String? = nil, password: String? = nil, from: String) {
        self.host = host
        self.port = port
        self.security = security ?? (Self.isLoopback(host) ? .off : .required)
        self.username = username
        self.password = password
        self.from = from
    }

    /// The settings without the password, for logs and `latchkey serve --help`-style output.
    public var description: String {
        "smtp://\(host):\(port) (STARTTLS \(security.rawValue), user \(username ?? "none"), password \(password == nil ? "none" : "set"), from \(from))"
    }

    /// Whether the username and password may be sent: over TLS, or to a server on this machine.
    public func allowsCredentials(overTLS: Bool) -> Bool { overTLS || Self.isLoopback(host) }

    /// A sentence saying what is wrong with the settings, nil when they can be used.
    public var problem: String? {
        if host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "/" }) { return "The SMTP host must be a host name or address." }
        if !(1...65535).contains(port) { return "The SMTP port must be a number from 1 to 65535." }
        if !Self.isPlainAddress(from) { return "The SMTP from address must be a plain address such as latchkey@example.com." }
        if (username == nil) != (password == nil) { return "Give both the SMTP username and password, or neither." }
        if username != nil, !allowsCredentials(overTLS: security == .required) {
            return "The SMTP password would be sent in plain text to \(host). Require STARTTLS, or use a relay on this machine."
        }
        return nil
    }

    /// True for `localhost`, `127.0.0.0/8` and `::1`: a mail relay on this machine.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// True when `address` is one plain mailbox (`local@domain`) that can be put in an SMTP command and a header
    /// as it is: no spaces, angle brackets, quotes, line breaks or other control characters.
    public static func isPlainAddress(_ address: String) -> Bool {
        guard address.utf8.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty, local.utf8.count <= 64, domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix(".") else {
            return false
        }
        return address.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && !"<>()[]\\,;:\"".unicodeScalars.contains(scalar)
        } && address.filter { $0 == "@" }.count == 1
    }
}
