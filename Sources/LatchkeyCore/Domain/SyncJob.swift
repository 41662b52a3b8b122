public import Foundation

/// Whether a Connection keeps one dataset of reference data for its credentials, and how often it is fetched.
public struct SyncSetting: Sendable, Equatable {
    /// The catalog dataset, e.g. `slack.channels`.
    public var dataset: String
    public var enabled: Bool
    /// Seconds between two runs of a credential's job.
    public var intervalSeconds: Int
    public var updatedAt: Date

    /// Daily, unless the Connection says otherwise.
    public static let defaultIntervalSeconds = 86_400

    public init(dataset: String, enabled: Bool, intervalSeconds: Int, updatedAt: Date) {
        self.dataset = dataset
        self.enabled = enabled
        self.intervalSeconds = intervalSeconds
        self.updatedAt = updatedAt
    }
}

/// The sync of one dataset for one credential: when it runs next, how the last runs went, and where a run that was
/// cut short resumes (the page cursor).
public struct SyncJob: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Not run yet.
        case pending
        /// The last run fetched every page.
        case ok
        /// The last run failed; it is tried again with backoff (`lastError` says why).
        case failed
        /// The credential cannot be used (it needs re-authorisation or expired): nothing runs until it works again.
        case paused
    }

    public var id: String
    public var tenantID: String
    public var connectionID: String
    /// The Connection's app, whose credential this is (resolution never crosses apps).
    public var appID: String
    public var integrationKey: String
    public var credentialID: String
    public var dataset: String
    public var status: Status
    public var leaseUntil: Date?
    public var nextRunAt: Date
    public var lastRunAt: Date?
    public var lastSuccessAt: Date?
    public var lastError: String?
    /// Failed runs in a row (the backoff grows with it).
    public var failures: Int
    /// Records stored for the credential and dataset after the last complete run.
    public var recordCount: Int
    /// Complete runs so far; records carry the run that last saw them.
    public var run: Int
    /// Where the run under way resumes: the next page's cursor or number; nil between runs.
    public var pageCursor: String?
    /// The incremental value sent on the next run (the greatest `incremental.from` seen); nil for a full run.
    public var since: String?
    /// Pages fetched by the run under way (or the last one), across the passes it took.
    public var runPages: Int

    public init(
        id: String,
        tenantID: String,
        connectionID: String,
        appID: String,
        integrationKey: String,
        credentialID: String,
        dataset: String,
        status: Status,
        leaseUntil: Date?,
        nextRunAt: Date,
        lastRunAt: Date?,
        lastSuccessAt: Date?,
        lastError: String?,
        failures: Int,
        recordCount: Int,
        run: Int,
        pageCursor: String?,
        since: String?,
        runPages: Int = 0
    ) {
        self.id = id
        self.tenantID = tenantID
        self.connectionID = connectionID
        self.appID = appID
        self.integrationKey = integrationKey
        self.credentialID = credentialID
        self.dataset = dataset
        self.status = status
        self.leaseUntil = leaseUntil
        self.nextRunAt = nextRunAt
        self.lastRunAt = lastRunAt
        self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError
        self.failures = failures
        self.recordCount = recordCount
        self.run = run
        self.pageCursor = pageCursor
        self.since = since
        self.runPages = runPages
    }
}

/// One stored record of a dataset: its key and its fields as JSON, opened.
public struct SyncRecord: Sendable, Equatable {
    public var key: String
    /// The kept fields, as a JSON object.
    public var payload: Data
    public var updatedAt: Date

    public init(key: String, payload: Data, updatedAt: Date) {
        self.key = key
        self.payload = payload
        self.updatedAt = updatedAt
    }
}

/// A credential with an enabled dataset and no job yet.
public struct UnplannedSync: Sendable, Equatable {
    public var tenantID: String
    public var connectionID: String
    public var credentialID: String
    public var dataset: String
    public var intervalSeconds: Int

    public init(tenantID: String, connectionID: String, credentialID: String, dataset: String, intervalSeconds: Int) {
        self.tenantID = tenantID
        self.connectionID = connectionID
        self.credentialID = credentialID
        self.dataset = dataset
        self.intervalSeconds = intervalSeconds
    }
}
