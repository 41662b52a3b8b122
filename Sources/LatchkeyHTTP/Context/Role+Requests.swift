public import HTTPTypes
public import LatchkeyCore

extension Role {
    /// Whether a request with this method only reads (`GET`, `HEAD`, `OPTIONS`); an unknown method counts as a change.
    public static func reads(_ method: HTTPRequest.Method?) -> Bool {
        switch method {
        case .get?, .head?, .options?: true
        default: false
        }
    }

    /// Console forms that are posted but only read: checking the audit chain.
    static let readingForms: Set<String> = ["/admin/audit/verify"]

    /// Whether an auditor signed in to the console may send this request: it reads, or it is a form that only reads.
    static func auditorMay(_ method: HTTPRequest.Method?, path: String) -> Bool {
        reads(method) || (method == .post && readingForms.contains(path))
    }

    /// What an auditor's key is told when it asks for a change.
    static let auditorKeyRefusal = LatchkeyError.forbidden(
        "This is an auditor's key: it reads everything and changes nothing. Use an administrator's key to make changes."
    )

    /// What an auditor signed in to the console is told when a form asks for a change.
    static let auditorRefusal = LatchkeyError.forbidden(
        "You are an auditor: you can read everything here and change nothing. Ask an administrator to make this change."
    )
}
