/// An error a person or a calling program is meant to read: a stable code, plain words and, where there is one,
/// the next step. Only the HTTP layer turns it into a response; nothing secret ever goes into it.
public struct LatchkeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case notConnected = "not_connected"
        case needsReauth = "needs_reauth"
        case providerRevoked = "provider_revoked"
        case insufficientScope = "insufficient_scope"
        case rateLimited = "rate_limited"
        case providerUnreachable = "provider_unreachable"
        case providerUnavailable = "provider_unavailable"
        case linkRequired = "link_required"
        case invalidRequest = "invalid_request"
        case payloadTooLarge = "payload_too_large"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case conflict
        case decryptionFailed = "decryption_failed"
        case internalError = "internal_error"
        case unavailable
    }

    /// One problem with one input field.
    public struct FieldError: Sendable, Equatable, Codable {
        public var path: String
        public var message: String
        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    /// What the caller can do next.
    public struct Action: Sendable, Equatable, Codable {
        public var type: String
        public var url: String?
        public init(type: String, url: String? = nil) {
            self.type = type
            self.url = url
        }
    }

    public let code: Code
    public let message: String
    public var fields: [FieldError]
    public var action: Action?
    public var retryAfter: Int?

    public init(_ code: Code, _ message: String, fields: [FieldError] = [], action: Action? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.fields = fields
        self.action = action
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The HTTP status this error is answered with (DESIGN §6).
    public var httpStatus: Int {
        switch code {
        case .notConnected, .needsReauth, .providerRevoked, .conflict: 409
        case .insufficientScope, .linkRequired, .forbidden: 403
        case .rateLimited: 429
        case .providerUnreachable: 502
        case .providerUnavailable, .unavailable: 503
        case .invalidRequest: 400
        case .payloadTooLarge: 413
        case .unauthorized: 401
        case .notFound: 404
        case .methodNotAllowed: 405
        case .decryptionFailed, .internalError: 500
        }
    }

    public static func invalidRequest(_ message: String, fields: [FieldError] = []) -> Self {
        .init(.invalidRequest, message, fields: fields)
    }
    public static func invalidField(_ path: String, _ message: String) -> Self {
        .init(.invalidRequest, "The request is not valid: \(path) \(message).", fields: [.init(path: path, message: message)])
    }
    public static func notFound(_ what: String) -> Self {
        .init(.notFound, "No \(what) was found with that id.")
    }
    public static func unauthorized(
        _ message: String =
            "The API takes an API key, not a browser session: send `Authorization: Bearer <key>` with an `lk_live_` admin key or an `lk_app_` app key."
    ) -> Self {
        .init(.unauthorized, message)
    }
    public static func forbidden(_ message: String) -> Self {
        .init(.forbidden, message)
    }
    public static func conflict(_ message: String) -> Self {
        .init(.conflict, message)
    }
    public static func payloadTooLarge(limit: Int) -> Self {
        .init(.payloadTooLarge, "The request body is larger than \(limit / 1024 / 1024) MiB.")
    }
    public static var decryptionFailed: Self {
        .init(
            .decryptionFailed,
            "A stored secret could not be decrypted: it was altered or its key is not available. Nothing was returned; the credential was marked to be reconnected and the event was recorded in the audit log."
        )
    }
    /// A credential row whose stored data (not its secret) cannot be read; `column` names the damaged part.
    public static func damagedCredential(id: String, column: String) -> Self {
        .init(
            .decryptionFailed,
            "The stored credential \(id) is damaged: its \(column) cannot be read. Nothing was returned or changed; it was marked to be reconnected and recorded in the audit log. Delete it (DELETE /api/v1/credentials/\(id)) and connect the account again, or restore the row from a backup."
        )
    }
    /// A credential already known to be unreadable (flagged by an earlier failure): the person must connect again.
    public static func unreadableCredential(service: String) -> Self {
        .init(
            .needsReauth,
            "Latchkey cannot read the stored \(service) credential. Please reconnect.",
            action: .init(type: "reconnect", url: "/connections")
        )
    }
    public static func notConnected(provider: String) -> Self {
        .init(.notConnected, "Please connect your \(provider) account first.", action: .init(type: "connect"))
    }
}
