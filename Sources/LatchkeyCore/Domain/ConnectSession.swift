public import Foundation

/// One connect attempt: the OAuth `state` (stored as an HMAC), the browser it is bound to, the PKCE verifier
/// (encrypted), and what became of it.
public struct ConnectSession: Sendable, Equatable {
    /// Where the session stands; its moves are decided by ``ExchangeStateMachine`` (``exchange``).
    public typealias Status = ExchangeStatus

    public var id: String
    public var tenantID: String
    public var appID: String
    public var integrationID: String
    public var endUserID: String
    public var browserHash: String
    public var nonce: String?
    public var redirectURI: String
    public var scopes: [String]
    public var templateValues: [String: String]
    public var reconnectCredentialID: String?
    public var status: Status
    public var error: String?
    public var credentialID: String?
    public var createdAt: Date
    public var stateExpiresAt: Date
    public var expiresAt: Date

    public init(
        id: String,
        tenantID: String,
        appID: String,
        integrationID: String,
        endUserID: String,
        browserHash: String,
        nonce: String?,
        redirectURI: String,
        scopes: [String],
        templateValues: [String: String],
        reconnectCredentialID: String?,
        status: Status,
        error: String?,
        credentialID: String?,
        createdAt: Date,
        stateExpiresAt: Date,
        expiresAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.appID = appID
        self.integrationID = integrationID
        self.endUserID = endUserID
        self.browserHash = browserHash
        self.nonce = nonce
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.templateValues = templateValues
        self.reconnectCredentialID = reconnectCredentialID
        self.status = status
        self.error = error
        self.credentialID = credentialID
        self.createdAt = createdAt
        self.stateExpiresAt = stateExpiresAt
        self.expiresAt = expiresAt
    }

    /// The rules for what may happen to this session next: its one attempt is claimable until `stateExpiresAt`.
    public var exchange: ExchangeStateMachine {
        ExchangeStateMachine(status: status, attemptDeadline: stateExpiresAt, expiresAt: expiresAt, retry: .singleAttempt)
    }

    /// The context the PKCE verifier is encrypted under.
    public var verifierContext: EncryptionContext {
        EncryptionContext(tenantID: tenantID, ownerID: endUserID, recordID: id, field: "pkce_verifier")
    }
}
