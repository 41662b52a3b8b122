import LatchkeyBootstrap
import LatchkeyLifecycle
import LatchkeyStorage

extension RequestLogPurgeService {
    /// The purge of the request log with the configured retention.
    init(runtime: LatchkeyRuntime) {
        self.init(
            repository: RequestLogRepository(database: runtime.database),
            retentionDays: runtime.configuration.requestLogRetentionDays,
            clock: runtime.clock,
            logger: runtime.logger
        )
    }
}

extension AuditRetentionService {
    /// The audit retention with the configured number of days, its checkpoints signed with the runtime's keyring.
    init(runtime: LatchkeyRuntime) {
        self.init(
            retention: AuditRetention(database: runtime.database, keyring: runtime.keyring, clock: runtime.clock),
            retentionDays: runtime.configuration.auditRetentionDays,
            clock: runtime.clock,
            logger: runtime.logger
        )
    }
}
