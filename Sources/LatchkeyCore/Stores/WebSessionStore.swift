public import Foundation

/// One signed-in browser session as stored: the HMAC of its cookie value (never the value), whose it is, and its
/// times.
public struct WebSessionRecord: Sendable, Equatable {
    public var idHash: String
    public var tenantID: String
    public var userID: String
    public var createdAt: Date
    public var expiresAt: Date
    public var lastSeenAt: Date
    public var ip: String?
    public var userAgent: String?
    /// How the person signed in, and so how strong the session is.
    public var method: SignInMethod
    public var strength: IdentityStrength
    /// The identity they signed in with, when the method has one row per account (not for a password).
    public var identityID: String?
    /// The id the person's list of sessions shows and ends it by (`ses_…`): neither the cookie value nor its hash.
    public var publicID: String

    public init(
        idHash: String,
        tenantID: String,
        userID: String,
        createdAt: Date,
        expiresAt: Date,
        lastSeenAt: Date,
        ip: String?,
        userAgent: String?,
        method: SignInMethod = .password,
        strength: IdentityStrength? = nil,
        identityID: String? = nil,
        publicID: String = ""
    ) {
        self.idHash = idHash
        self.tenantID = tenantID
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastSeenAt = lastSeenAt
        self.ip = ip
        self.userAgent = userAgent
        self.method = method
        self.strength = strength ?? method.strength
        self.identityID = identityID
        self.publicID = publicID
    }
}

/// Where console sign-in sessions are kept, so that every instance knows them. The rules (lifetimes, cookies, CSRF)
/// belong to the web layer; this stores and finds rows.
public protocol WebSessionStore: Sendable {
    func insert(_ record: WebSessionRecord) async throws
    /// The session with this id hash and its user, if it exists (expired or not).
    func find(idHash: String) async throws -> (record: WebSessionRecord, user: User)?
    func touch(idHash: String, at: Date) async throws
    func delete(idHash: String) async throws
    /// The person's sessions (ended ones included until they are removed), newest first.
    func sessions(userID: String, tenantID: String) async throws -> [WebSessionRecord]
    /// Ends the person's session with this public id; false when they have none by it.
    func delete(publicID: String, userID: String, tenantID: String) async throws -> Bool
    /// Ends every session of the person; returns how many there were.
    func deleteAll(userID: String, tenantID: String) async throws -> Int
}
