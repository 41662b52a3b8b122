public import Foundation

/// A plain-text email: the sender, one recipient, a subject and a body.
public struct EmailMessage: Sendable, Equatable {
    public var from: String
    public var to: String
    public var subject: String
    public var body: String
    public var date: Date

    public init(from: String, to: String, subject: String, body: String, date: Date) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
    }

    /// The message for a sign-in code: the code and how long it works.
    public static func signInCode(_ code: String, from: String, to: String, minutes: Int, site: String, date: Date) -> EmailMessage {
        EmailMessage(
            from: from,
            to: to,
            subject: "Your sign-in code",
            body: """
                Your code to sign in to \(site) is:

                    \(code)

                It works once, for \(minutes) minutes. If you did not ask for it, you can ignore this email: nobody can sign in without the code.
                """,
            date: date
        )
    }

    /// The DATA of the message: headers and body with CRLF line ends and dot-stuffing (a line that starts with "."
    /// gets another one), ending with the lone "." line.
    public func data(messageID: String) -> String {
        var lines = [
            "From: \(from)",
            "To: \(to)",
            "Subject: \(Self.headerText(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        lines += normalized.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") ? "." + line : String(line)
        }
        return lines.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// A header value on one line: line breaks and other control characters become spaces.
    static func headerText(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
