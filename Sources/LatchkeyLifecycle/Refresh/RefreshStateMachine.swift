public import Foundation
public import LatchkeyCore

/// The decisions of one refresh of one credential (DESIGN §4), without any I/O: who refreshes (the lease), whether
/// the provider may be called (the shared circuit), when to retry and when to give up, what to record, and what the
/// caller gets. A driver (``RefreshCoordinator``) performs each ``Action`` and reports what happened as the next
/// event. Every transition is unit-tested without a database or a network.
///
/// Rules that matter for correctness:
/// - the provider is called only while this instance holds the lease, with the row read under that lease;
/// - a lease lost before a retry means the provider is never called again by this run: it waits for and reads
///   what the winner wrote (with rotating refresh tokens, a second caller would present a token already rotated);
/// - a trial call of the circuit always ends in a recorded outcome or a release, whatever the provider said, so
///   one user's revoked grant cannot pause refresh for everyone.
public struct RefreshStateMachine: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How long a lease holds: the provider timeout plus a margin for clock skew.
        public var leaseLength: TimeInterval = 15
        /// An access token this close to expiry is refreshed before it is handed out.
        public var margin: TimeInterval = 60
        /// Retries after the first attempt, for network errors, 5xx and 429, when a caller is waiting.
        public var retries = 3
        /// The first backoff; each retry doubles it, with jitter.
        public var backoff: TimeInterval = 0.5
        /// How long an on-demand refresh may keep a caller waiting across retries.
        public var onDemandBudget: TimeInterval = 12
        /// How often a caller waiting for another instance's refresh looks again.
        public var waitPoll: TimeInterval = 0.1
        /// The longest a provider call may take: a lease with less than this left is renewed before calling.
        public var providerTimeout: TimeInterval = 10
        /// The circuit's threshold, pause and trial length.
        public var circuit = CircuitPolicy()

        public init() {}

        /// How long a caller waits for another instance's refresh before giving up.
        public var waitLimit: TimeInterval { leaseLength * 2 + 5 }
    }

    /// Why a refresh runs.
    public enum Trigger: String, Sendable {
        case onDemand = "on_demand"
        case proactive
        /// The provider refused the access token on a relayed call (401): refreshed whatever its expiry says, unless
        /// another caller refreshed it since.
        case forced
    }

    /// What the driver read from the credential row.
    public struct Row: Sendable, Equatable {
        public var status: CredentialStatus
        public var statusReason: String?
        public var expiresAt: Date?
        public var lastRefreshedAt: Date?
        public var refreshFailures: Int
        public var hasRefreshToken: Bool
        /// Who holds the refresh lease, and until when.
        public var leaseOwner: String?
        public var leaseUntil: Date?

        public init(
            status: CredentialStatus = .active,
            statusReason: String? = nil,
            expiresAt: Date?,
            lastRefreshedAt: Date? = nil,
            refreshFailures: Int = 0,
            hasRefreshToken: Bool = true,
            leaseOwner: String? = nil,
            leaseUntil: Date? = nil
        ) {
            self.status = status
            self.statusReason = statusReason
            self.expiresAt = expiresAt
            self.lastRefreshedAt = lastRefreshedAt
            self.refreshFailures = refreshFailures
            self.hasRefreshToken = hasRefreshToken
            self.leaseOwner = leaseOwner
            self.leaseUntil = leaseUntil
        }

        /// The row with its lease held by `owner` until `until`.
        public func leased(by owner: String, until: Date) -> Row {
            var row = self
            row.leaseOwner = owner
            row.leaseUntil = until
            return row
        }
    }

    /// How the provider's refresh call failed.
    public enum ProviderFailure: Sendable, Equatable {
        /// Network error, 5xx, 429: worth retrying.
        case transient(retryAfter: Int?)
        /// The grant is gone (`invalid_grant` and equivalents): the person must reconnect.
        case reauthRequired(reason: String)
        /// The provider refused this server's OAuth client (`invalid_client`).
        case clientRefused
        /// An answer that cannot be used.
        case badResponse
        /// The outbound policy refused the address: nothing was sent, nothing is learned about the provider.
        case policyRefused
    }

    /// Why a failure is recorded on the credential.
    public enum FailureReason: String, Sendable, Equatable {
        case noRefreshToken = "no_refresh_token"
        case transient
        case invalidClient = "invalid_client"
        case badResponse = "bad_response"
        case outboundPolicy = "outbound_policy"
    }

    /// A failed refresh as written to the credential: status (when permanent), reason and next try.
    public struct Failure: Sendable, Equatable {
        public var status: CredentialStatus?
        /// `FailureReason` raw value, or the provider's reauthorization reason.
        public var reason: String
        public var retryAt: Date?
    }

    /// What the circuit learned from a call.
    public enum CircuitOutcome: Sendable, Equatable {
        /// The provider answered (a token, or an OAuth error: it is up).
        case answered
        /// The provider failed.
        case failed
        /// Nothing was learned; give the trial back.
        case releaseTrial
    }

    /// Why the caller does not get a token.
    public enum Refusal: Sendable, Equatable {
        case notFound
        case reauth(reason: String)
        case waitedTooLong
        case circuitOpen(retryAfter: Int)
        case providerUnreachable(retryAfter: Int?)
        case clientRefused
        case policyRefused
        /// The provider context could not be resolved; the driver rethrows the resolver's error.
        case noContext
    }

    /// What the caller gets.
    public enum Outcome: Sendable, Equatable {
        /// The credential as last read (still valid, or refreshed by someone else).
        case stored
        /// The result this run saved.
        case refreshed
        /// The lease was lost after the provider answered: read and hand out what is stored now.
        case reloadStored
        case refused(Refusal)
    }

    /// The next thing for the driver to do; each is answered by the event named in its comment.
    public enum Action: Sendable, Equatable {
        /// Read the credential row → ``loaded(_:now:)``.
        case load
        /// Claim the lease → ``leaseAcquired(_:now:)``.
        case acquireLease(until: Date)
        /// Wait → ``slept(now:)``.
        case sleep(seconds: TimeInterval)
        /// Resolve the provider context and read the circuit → ``contextResolved(circuit:now:)`` or ``contextFailed()``.
        case resolveContext
        /// Claim the circuit's trial call (compare-and-set) → ``trialClaimed(_:current:now:)``.
        case claimTrial(CircuitState)
        /// Call the provider's token endpoint → ``providerAnswered(now:)`` or ``providerFailed(_:now:jitter:)``.
        case callProvider(attempt: Int)
        /// Record the circuit outcome → ``circuitRecorded(_:now:)``.
        case recordCircuit(CircuitOutcome)
        /// Extend the lease (before a retry, or a claim about to run out) → ``leaseRenewed(_:now:)``.
        case renewLease(until: Date)
        /// Mark the integration misconfigured (admin alert) → ``integrationMarked(now:)``.
        case markIntegrationMisconfigured
        /// Write the failure (fenced on the lease; releases it) → ``failureRecorded()``.
        case recordFailure(Failure)
        /// Save the new tokens (fenced; releases the lease) → ``tokensSaved(_:)``.
        case saveTokens
        /// Done; release what is still held.
        case finish(Outcome, releaseLease: Bool, releaseTrial: Bool)
    }

    /// What happens after the circuit outcome is recorded.
    enum AfterCircuit: Equatable {
        case save
        case transient(retryAfter: Int?, jitter: Double)
        case badResponse
        case reauth(reason: String)
        case clientRefused
        case policyRefused
    }

    enum State: Equatable {
        case initial
        case loading
        case acquiringLease
        case waiting
        case renewingClaim(Row)
        case resolving(Row)
        case claimingTrial(Row)
        case calling(Row)
        case recordingCircuit(Row, then: AfterCircuit)
        case renewingLease(Row, wait: TimeInterval)
        case backingOff(Row)
        case markingIntegration(Row)
        case recordingFailure(then: Outcome)
        case saving
        case finished
    }

    public let configuration: Configuration
    public let trigger: Trigger
    let owner: String
    let started: Date
    var state = State.initial
    /// Whether the lease was handed in by the caller (the background refresher claims in bulk).
    var trustsClaim: Bool
    public internal(set) var holdsLease: Bool
    public internal(set) var holdsTrial = false
    var circuitBefore = CircuitState.closed
    var attempts = 0
    /// Provider calls made so far.
    public var attemptsMade: Int { attempts }
    var firstCallAt: Date?

    public init(configuration: Configuration, trigger: Trigger, owner: String, leased: Bool, started: Date) {
        self.configuration = configuration
        self.trigger = trigger
        self.owner = owner
        self.started = started
        self.trustsClaim = leased
        self.holdsLease = leased
    }

    /// Whether a credential's access token must be refreshed before it is handed out.
    public static func needsRefresh(expiresAt: Date?, now: Date, margin: TimeInterval) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= margin
    }

    public mutating func start() -> Action {
        precondition(state == .initial, "a refresh starts once")
        state = .loading
        return .load
    }
}
