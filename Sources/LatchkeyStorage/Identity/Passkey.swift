public import Foundation

/// A passkey a person registered: the public half of a WebAuthn credential, with the counter its authenticator
/// keeps and the name the person gave it. Each passkey is also an identity (`passkey` / credential ID).
public struct Passkey: Sendable, Equatable {
    /// The credential ID, URL-safe base64 (the identity's subject).
    public var credentialID: String
    public var tenantID: String
    public var userID: String
    /// The identity row this passkey signs in as; removing the identity removes the passkey.
    public var identityID: String
    /// The random per-person handle the authenticator stores with a discoverable credential (URL-safe base64).
    public var userHandle: String
    /// The ES256 public key, as an uncompressed P-256 point.
    public var publicKey: Data
    /// The authenticator's signature counter at the last use; 0 for authenticators that keep none.
    public var signCount: UInt32
    /// What the person calls it ("MacBook", "YubiKey").
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(
        credentialID: String,
        tenantID: String,
        userID: String,
        identityID: String,
        userHandle: String,
        publicKey: Data,
        signCount: UInt32,
        name: String,
        createdAt: Date,
        lastUsedAt: Date? = nil
    ) {
        self.credentialID = credentialID
        self.tenantID = tenantID
        self.userID = userID
        self.identityID = identityID
        self.userHandle = userHandle
        self.publicKey = publicKey
        self.signCount = signCount
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
