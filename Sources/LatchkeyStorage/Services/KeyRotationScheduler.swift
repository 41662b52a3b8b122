public import Foundation
public import LatchkeyCore
public import Logging
import Metrics
public import ServiceLifecycle

/// Rotates the data key on a schedule: when the active data key is older than the rotation period, it adds a new
/// version (one instance of several does, see ``KeyManager/rotateIfOlder(than:keyring:)``) and the re-wrap service
/// moves the stored values to it. It also publishes the key's age and whether rotation is overdue.
public struct KeyRotationScheduler: Service {
    public struct Configuration: Sendable {
        /// Days between rotations; 0 turns scheduled rotation off (and with it the overdue warning).
        public var rotationDays: Int
        /// How often the key's age is checked.
        public var checkInterval: Duration

        public init(rotationDays: Int = 90, checkInterval: Duration = .seconds(3600)) {
            self.rotationDays = rotationDays
            self.checkInterval = checkInterval
        }

        /// The rotation period, nil when scheduled rotation is off.
        public var period: TimeInterval? { rotationDays > 0 ? TimeInterval(rotationDays) * 86_400 : nil }
    }

    /// How far past its rotation date a data key may be before rotation is called overdue: one day, far longer than
    /// the check interval, so only a rotation that keeps failing (or servers that were not running) raises it.
    public static let overdueGrace: TimeInterval = 86_400

    /// The data key's age and whether its rotation is overdue.
    public struct KeyAge: Sendable, Equatable {
        public var ageSeconds: TimeInterval
        public var overdue: Bool
    }

    let keyManager: KeyManager
    let keyring: Keyring
    let audit: AuditLog
    /// The tenant whose audit log records scheduled rotations (the default tenant, as for `latchkey keys rotate`).
    let auditTenantID: String
    public let configuration: Configuration
    let clock: any LatchkeyClock
    let logger: Logger

    public init(
        keyManager: KeyManager,
        keyring: Keyring,
        audit: AuditLog,
        auditTenantID: String,
        configuration: Configuration,
        clock: any LatchkeyClock,
        logger: Logger
    ) {
        self.keyManager = keyManager
        self.keyring = keyring
        self.audit = audit
        self.auditTenantID = auditTenantID
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWork.run(
            every: configuration.checkInterval,
            clock: clock,
            logger: logger,
            failure: "scheduled key rotation failed; will retry",
            level: .error
        ) { try await check() }
    }

    /// Rotates when the data key is due, then records the key's age and the overdue flag. Returns the new version
    /// when this call rotated.
    @discardableResult
    public func check() async throws -> Int? {
        var rotated: Int?
        if let period = configuration.period {
            rotated = try await keyManager.rotateIfOlder(than: period, keyring: keyring)
            if let rotated {
                _ = try await audit.append(
                    AuditRecord(actor: "system", action: "key.rotate", target: "data-key-v\(rotated)", details: ["reason": "schedule"]),
                    tenantID: auditTenantID
                )
            }
        }
        let age = try await Self.keyAge(keyManager: keyManager, configuration: configuration, now: clock.now)
        Gauge(label: "latchkey_data_key_age_seconds").record(age.ageSeconds)
        Gauge(label: "latchkey_key_rotation_overdue").record(age.overdue ? 1 : 0)
        return rotated
    }

    /// The active data key's age at `now`, and whether its rotation is overdue.
    public func keyAge(now: Date) async throws -> KeyAge {
        try await Self.keyAge(keyManager: keyManager, configuration: configuration, now: now)
    }

    /// The active data key's age, and whether it is past its rotation period by more than ``overdueGrace``.
    public static func keyAge(keyManager: KeyManager, configuration: Configuration, now: Date) async throws -> KeyAge {
        let age = max(0, now.timeIntervalSince(try await keyManager.activeDataKeyCreatedAt()))
        let overdue = configuration.period.map { age > $0 + overdueGrace } ?? false
        return KeyAge(ageSeconds: age, overdue: overdue)
    }
}
