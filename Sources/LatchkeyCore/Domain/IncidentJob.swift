public import Foundation

/// What an incident revocation covers: every credential of one integration, of one app, or of the whole tenant.
public enum IncidentScope: Sendable, Equatable {
    case integration(String)
    case app(String)
    case tenant

    /// `integration`, `app` or `tenant`.
    public var kind: String {
        switch self {
        case .integration: "integration"
        case .app: "app"
        case .tenant: "tenant"
        }
    }

    /// The phrase an administrator types to confirm a revocation: the integration key, the app id, or
    /// `revoke everything` for the tenant. Long enough that it is not typed by accident.
    public var confirmationPhrase: String {
        switch self {
        case .integration(let key): key
        case .app(let id): id
        case .tenant: "revoke everything"
        }
    }
}

/// A revocation run, kept in the database so that a run cut short (a crash, SIGKILL) resumes where it stopped. The
/// counts only ever say what was done: a credential counts once it is deleted.
public struct IncidentJob: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Under way, or interrupted and waiting to be resumed.
        case running
        /// Every credential in scope was revoked (or tried) and deleted.
        case done
        /// Stopped by an error it could not get past (`error` says which); what was done is counted.
        case failed
    }

    public var id: String
    public var tenantID: String
    public var scope: IncidentScope
    public var status: Status
    /// Credentials in scope when the run started.
    public var total: Int
    /// Credentials deleted so far (each also revoked at its provider, or tried).
    public var processed: Int
    /// The provider confirmed the revocation.
    public var revoked: Int
    /// Nothing to call at the provider (no revocation endpoint, not an OAuth token).
    public var notSupported: Int
    /// The provider did not confirm (an error, a timeout, a refusal) or was not asked (the credential could not be
    /// read): deleted here all the same, so the token may stay valid at the provider until it expires.
    public var revocationFailed: Int
    /// The last credential id dealt with; the run goes on after it.
    public var cursor: String
    public var actor: String
    public var error: String?
    public var leaseUntil: Date?
    public var startedAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(id: String, tenantID: String, scope: IncidentScope, total: Int, actor: String, startedAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.scope = scope
        self.status = .running
        self.total = total
        self.processed = 0
        self.revoked = 0
        self.notSupported = 0
        self.revocationFailed = 0
        self.cursor = ""
        self.actor = actor
        self.error = nil
        self.leaseUntil = nil
        self.startedAt = startedAt
        self.updatedAt = startedAt
        self.finishedAt = nil
    }

    /// Counts one credential deleted, with what its provider said.
    public mutating func record(_ outcome: ProviderRevocation, credentialID: String) {
        processed += 1
        cursor = credentialID
        switch outcome {
        case .revoked: revoked += 1
        case .failed, .notAttempted: revocationFailed += 1
        case .notSupported, .expired: notSupported += 1
        }
    }
}
