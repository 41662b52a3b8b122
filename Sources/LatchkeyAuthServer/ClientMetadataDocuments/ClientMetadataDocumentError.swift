public import Foundation

/// Why a client's metadata document cannot be used. ``message`` is plain words for the person who was sent to sign
/// in (it is shown on an error page) and says who can fix it; nothing in it is secret (a `client_id` is public).
public struct ClientMetadataDocumentError: LocalizedError, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case invalidClientID
        case blockedAddress
        case unreachable
        case timedOut
        case tooLarge
        case unexpectedStatus
        case invalidDocument
    }

    private let code: Code
    /// What went wrong and what to do, in plain words.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var errorDescription: String? { message }
    public var description: String { "ClientMetadataDocumentError(\(code)): \(message)" }

    /// Whether trying again later may help (the document's host did not answer, or not in time).
    public var isTransient: Bool { code == .unreachable || code == .timedOut }

    /// The `client_id` is not a URL a metadata document can be fetched from (`problem` says why).
    public static func invalidClientID(_ clientID: String, problem: String) -> ClientMetadataDocumentError {
        ClientMetadataDocumentError(
            .invalidClientID,
            "The application's client_id \"\(shortened(clientID))\" is not an address Latchkey can fetch the application's description "
                + "from: \(problem). The application's developer has to fix it."
        )
    }

    /// The outbound policy refused the document's host before any connection (`reason`: "it is a private address").
    public static func blockedAddress(host: String, reason: String) -> ClientMetadataDocumentError {
        ClientMetadataDocumentError(
            .blockedAddress,
            "Latchkey did not fetch the application's description from \(shortened(host)): \(reason). An administrator can allow "
                + "addresses on this machine's network by starting Latchkey with --allow-private-network."
        )
    }

    /// The document's host could not be reached.
    public static func unreachable(host: String) -> ClientMetadataDocumentError {
        ClientMetadataDocumentError(
            .unreachable,
            "The application's description at \(shortened(host)) could not be fetched: the host did not answer. Try again in a "
                + "moment; if it keeps failing, the application's developer has to fix it."
        )
    }

    /// The document did not arrive within the time limit.
    public static func timedOut(host: String, seconds: Int) -> ClientMetadataDocumentError {
        ClientMetadataDocumentError(
            .timedOut,
            "The application's description at \(shortened(host)) did not arrive within \(seconds) seconds. Try again in a moment; "
                + "if it keeps failing, the application's developer has to fix it."
        )
    }

    /// The document is larger than the limit.
    public static func tooLarge(limit: Int) -> ClientMetadataDocumentError {
        ClientMetadataDocumentError(
            .tooLarge,
            "The application's description is larger than \(limit) bytes, the most Latchkey reads. The application's developer "
                + "has to make it smaller."
        )
    }

    /// The document's URL answered another status than 200 (redirects are not followed).
    public static func unexpectedStatus(_ status: Int) -> ClientMetadataDocumentError {
        let what = (300..<400).contains(status) ? "a redirect, which Latchkey does not follow" : "not the document"
        return ClientMetadataDocumentError(
            .unexpectedStatus,
            "The address of the application's description answered HTTP \(status), \(what). The application's developer has to "
                + "fix it."
        )
    }

    /// The document was fetched but says something Latchkey cannot accept (`problem` says what).
    public static func invalidDocument(_ problem: String) -> ClientMetadataDocumentError {
        ClientMetadataDocumentError(
            .invalidDocument,
            "The application's description cannot be used: \(problem). The application's developer has to fix it."
        )
    }

    /// At most 200 characters of a value taken from the request or the document, so that a page stays readable.
    static func shortened(_ text: String) -> String {
        text.count <= 200 ? text : String(text.prefix(200)) + "…"
    }
}
