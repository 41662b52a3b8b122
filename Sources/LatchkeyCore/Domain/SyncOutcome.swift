/// How much of a Connection's rate budget reference-data sync may use in one window.
public enum SyncBudget {
    /// A fifth, unless the Connection says otherwise.
    public static let defaultFraction = 0.2
    /// The least and the most a Connection may set: sync must make progress, and interactive calls keep a tenth.
    public static let fractions: ClosedRange<Double> = 0.05...0.9
}

/// A complete run as saved: the job after it, and the records it removed (those a full run no longer saw).
public struct SyncFinished: Sendable, Equatable {
    public var job: SyncJob
    public var removed: Int

    public init(job: SyncJob, removed: Int) {
        self.job = job
        self.removed = removed
    }
}

/// Why a run was given up for this attempt, as a webhook (`sync.failed`) tells it: an error code and a message of
/// our own words. Never the provider's text, which could quote a secret.
public struct SyncFailure: Sendable, Equatable {
    /// The error code (DESIGN §6), e.g. `provider_unreachable`.
    public var code: String
    public var message: String
    /// The job waits for the credential to be reconnected instead of retrying on its own.
    public var paused: Bool

    public init(code: String, message: String, paused: Bool) {
        self.code = code
        self.message = message
        self.paused = paused
    }

    /// The failure of an error code, with the message that goes with it.
    public static func of(code: String, paused: Bool) -> SyncFailure {
        let message: String
        switch code {
        case "needs_reauth", "provider_revoked", "not_connected":
            message = "The account can no longer be used; its sync is paused until the person reconnects it."
        case "insufficient_scope", "forbidden":
            message = "The provider refused to list this dataset for the account; it may need more permissions. The sync will be tried again."
        case "provider_unreachable":
            message = "The provider could not be reached or did not answer with the dataset's records. The sync will be tried again."
        case "invalid_request", "not_found":
            message = "The dataset could not be fetched as the catalog describes it; check the Connection's sync settings."
        default:
            message = "The sync stopped on an error. It will be tried again."
        }
        return SyncFailure(code: code, message: message, paused: paused)
    }
}

/// Jobs across the database, by status, for the sync gauges.
public struct SyncJobCounts: Sendable, Equatable {
    public var byStatus: [SyncJob.Status: Int]
    /// Jobs that should have run more than the overdue margin ago and did not (not paused, dataset on).
    public var overdue: Int

    public init(byStatus: [SyncJob.Status: Int] = [:], overdue: Int = 0) {
        self.byStatus = byStatus
        self.overdue = overdue
    }
}
