public import Foundation

/// An app's connect session (DESIGN §4): created by the app for one of its end users and one integration, opened
/// by that person at `/connect/{token}`, finished by the provider's callback. Its `lk_cs_` token is stored as an
/// HMAC; the session is bound to the browser that first opens it and, while `pending`, takes new provider attempts
/// (each with its own OAuth `state` and PKCE verifier) until it completes or its 30 minutes end.
public struct AppConnectSession: Sendable, Equatable {
    /// Where the session stands; its moves are decided by ``ExchangeStateMachine`` (``exchange``).
    public typealias Status = ExchangeStatus

    /// The prefix of every connect session token.
    public static let tokenPrefix = "lk_cs_"
    /// How long a session may be used.
    public static let lifetime: TimeInterval = 30 * 60
    /// How long one provider attempt (its OAuth `state`) may be used.
    public static let attemptLifetime: TimeInterval = 10 * 60

    public var id: String
    public var tenantID: String
    public var appID: String
    public var integrationID: String
    public var endUserID: String
    /// The app's Connection for the integration, where the credential is stored.
    public var connectionID: String
    /// Where the browser goes when the session ends; nil shows a finished page.
    public var redirectURL: String?
    public var reconnectCredentialID: String?
    /// The browser the session is bound to (an HMAC of its id); nil until first opened.
    public var browserHash: String?
    public var status: Status
    /// Why it failed (a short code such as `access_denied`); never secret.
    public var error: String?
    public var credentialID: String?
    /// The current provider attempt: its nonce, scopes and the values typed for it, and its deadline.
    public var nonce: String?
    public var scopes: [String]
    public var templateValues: [String: String]
    public var attemptExpiresAt: Date?
    public var createdAt: Date
    public var expiresAt: Date
    public var completedAt: Date?

    public init(
        id: String,
        tenantID: String,
        appID: String,
        integrationID: String,
        endUserID: String,
        connectionID: String,
        redirectURL: String?,
        reconnectCredentialID: String?,
        createdAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.appID = appID
        self.integrationID = integrationID
        self.endUserID = endUserID
        self.connectionID = connectionID
        self.redirectURL = redirectURL
        self.reconnectCredentialID = reconnectCredentialID
        self.browserHash = nil
        self.status = .pending
        self.error = nil
        self.credentialID = nil
        self.nonce = nil
        self.scopes = []
        self.templateValues = [:]
        self.attemptExpiresAt = nil
        self.createdAt = createdAt
        self.expiresAt = createdAt.addingTimeInterval(Self.lifetime)
        self.completedAt = nil
    }

    /// The rules for what may happen next: new attempts while pending, a denial reopens it, until it expires.
    public var exchange: ExchangeStateMachine {
        ExchangeStateMachine(status: status, attemptDeadline: attemptExpiresAt, expiresAt: expiresAt, retry: .retryWhilePending)
    }

    /// The status an app is told at `now`: `exchanging` is still `pending`, and a pending session past its expiry
    /// is `expired` even before anything wrote it.
    public func reportedStatus(now: Date) -> Status {
        switch status {
        case .pending, .exchanging: now >= expiresAt ? .expired : .pending
        case .completed, .failed, .expired: status
        }
    }

    /// The context the token is sealed under.
    public var tokenContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: endUserID, recordID: id, field: "connect_token")
    }

    /// The context the current attempt's PKCE verifier is encrypted under.
    public var verifierContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: endUserID, recordID: id, field: "pkce_verifier")
    }
}
