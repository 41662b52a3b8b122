public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyStorage
public import Logging
import Metrics
public import ServiceLifecycle

/// Sends queued webhook events. Each pass leases the deliveries that are due (committed before anything is sent, so
/// several instances never send one delivery at the same time), POSTs them signed to the tenant's endpoint (or the app's), and
/// records the outcome: a 2xx answer delivers; anything else is retried with exponential backoff and jitter until the
/// delivery's retry window (24 hours) has passed, then it is dead-lettered. A delivery whose instance died mid-send is
/// sent again when its lease runs out (at least once; receivers deduplicate on the event id).
public struct WebhookDeliveryService: Service {
    public struct Configuration: Sendable {
        /// How often to look for due deliveries when there was nothing to do.
        public var pollInterval: Duration
        /// Deliveries leased and sent (concurrently) per pass.
        public var batchSize: Int
        /// The delay after the first failed attempt; it doubles with each further failure…
        public var firstRetryDelay: TimeInterval
        /// …up to this.
        public var maxRetryDelay: TimeInterval
        /// Up to this fraction of each delay is taken off at random, so that failing deliveries spread out.
        public var jitter: Double
        /// How long a lease holds; longer than the transport's time limit.
        public var lease: TimeInterval

        public init(
            pollInterval: Duration = .seconds(2),
            batchSize: Int = 20,
            firstRetryDelay: TimeInterval = 30,
            maxRetryDelay: TimeInterval = 3600,
            jitter: Double = 0.2,
            lease: TimeInterval = 60
        ) {
            self.pollInterval = pollInterval
            self.batchSize = batchSize
            self.firstRetryDelay = firstRetryDelay
            self.maxRetryDelay = maxRetryDelay
            self.jitter = jitter
            self.lease = lease
        }

        /// The delay before the next attempt after `attempts` failed ones; `random` in 0..<1.
        public func retryDelay(afterAttempts attempts: Int, random: Double) -> TimeInterval {
            let exponent = min(max(attempts - 1, 0), 30)
            let delay = min(firstRetryDelay * pow(2, Double(exponent)), maxRetryDelay)
            return delay * (1 - jitter * random)
        }
    }

    let outbox: WebhookOutbox
    let transport: any HTTPTransport
    let configuration: Configuration
    let clock: any LatchkeyClock
    /// Spreads retries of failing deliveries.
    let random: any RandomSource
    let logger: Logger
    /// This instance's name on the leases it takes.
    public let owner: String

    public init(
        outbox: WebhookOutbox,
        transport: any HTTPTransport,
        configuration: Configuration = .init(),
        clock: any LatchkeyClock,
        random: any RandomSource = SystemRandom(),
        logger: Logger,
        owner: String = "webhooks-" + NewID.make()
    ) {
        self.outbox = outbox
        self.transport = transport
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.logger = logger
        self.owner = owner
    }

    public func run() async throws {
        await PeriodicWork.run(
            every: configuration.pollInterval,
            clock: clock,
            logger: logger,
            failure: "webhook delivery pass failed; will retry",
            level: .error
        ) {
            // A full batch means more may be due: the next one at once.
            while try await runOnce() >= configuration.batchSize {
                if Task.isCancelled { return }
            }
        }
    }

    /// Sends every delivery due now, up to one batch, and returns how many it attempted.
    @discardableResult
    public func runOnce() async throws -> Int {
        let now = clock.now
        guard try await outbox.repository.hasDue(now: now) else { return 0 }
        let claimed = try await outbox.repository.claimDue(
            owner: owner,
            now: now,
            until: now.addingTimeInterval(configuration.lease),
            limit: configuration.batchSize
        )
        guard !claimed.isEmpty else { return 0 }
        // Each delivery goes to its tenant's endpoint or, when it names an app, to that app's.
        var targets: [String: (url: String, secret: String)?] = [:]
        func key(_ delivery: WebhookDelivery) -> String { delivery.tenantID + "/" + (delivery.appID ?? "") }
        for delivery in claimed where targets[key(delivery)] == nil {
            targets[key(delivery)] = .some(try await outbox.target(tenantID: delivery.tenantID, appID: delivery.appID))
        }
        await withTaskGroup(of: Void.self) { group in
            for delivery in claimed {
                let target = targets[key(delivery)] ?? nil
                group.addTask {
                    do {
                        try await deliver(delivery, to: target)
                    } catch {
                        logger.error(
                            "recording a webhook delivery failed",
                            metadata: ["delivery_id": "\(delivery.id)", "error": "\(Database.describe(error))"]
                        )
                    }
                }
            }
        }
        return claimed.count
    }

    private func deliver(_ delivery: WebhookDelivery, to target: (url: String, secret: String)?) async throws {
        guard let target, let url = URL(string: target.url) else {
            try await outbox.repository.abandon(id: delivery.id, owner: owner, error: "No webhook endpoint is set.")
            Counter(label: "latchkey_webhook_deliveries_total", dimensions: [("result", "dead")]).increment()
            return
        }
        let host = url.host ?? "the endpoint"
        let body = Data(delivery.payload.utf8)
        let timestamp = Int(clock.now.timeIntervalSince1970)
        let request = OutboundRequest(
            method: "POST",
            url: url,
            headers: [
                (name: "Content-Type", value: "application/json"),
                (name: WebhookSignature.headerName, value: WebhookSignature.sign(secret: target.secret, timestamp: timestamp, body: body)),
                (name: "Latchkey-Event", value: delivery.type),
                (name: "Latchkey-Delivery", value: delivery.id),
            ],
            body: body
        )
        var statusCode: Int?
        var problem: String?
        var refusedByPolicy = false
        do {
            let response = try await transport.send(request)
            statusCode = response.status
            if !(200..<300).contains(response.status) { problem = "The endpoint answered with HTTP \(response.status)." }
        } catch let error as OutboundError {
            problem = Self.describe(error)
            refusedByPolicy = error.isPolicyRefusal
        } catch is CancellationError {
            // Shutting down: the lease runs out and another pass sends it.
            throw CancellationError()
        } catch {
            problem = "Could not reach \(host)."
        }
        let at = clock.now
        guard let problem else {
            _ = try await outbox.repository.recordAttempt(
                id: delivery.id,
                owner: owner,
                status: .delivered,
                at: at,
                statusCode: statusCode,
                error: nil,
                nextAttemptAt: nil
            )
            Counter(label: "latchkey_webhook_deliveries_total", dimensions: [("result", "delivered")]).increment()
            logger.debug("webhook delivered", metadata: ["delivery_id": "\(delivery.id)", "event_type": "\(delivery.type)"])
            return
        }
        let attempts = delivery.attempts + 1
        // A policy refusal is a setting to change, not a failing receiver: retrying cannot help, so it is
        // dead-lettered at once (replay sends it again once the endpoint or the setting is fixed).
        let dead = refusedByPolicy || at >= delivery.retryUntil
        let next =
            dead
            ? nil
            : min(at.addingTimeInterval(configuration.retryDelay(afterAttempts: attempts, random: random.unit())), delivery.retryUntil)
        _ = try await outbox.repository.recordAttempt(
            id: delivery.id,
            owner: owner,
            status: dead ? .dead : .failed,
            at: at,
            statusCode: statusCode,
            error: problem,
            nextAttemptAt: next
        )
        Counter(label: "latchkey_webhook_deliveries_total", dimensions: [("result", dead ? "dead" : "failed")]).increment()
        var metadata: Logger.Metadata = [
            "delivery_id": "\(delivery.id)", "event_type": "\(delivery.type)", "attempt": "\(attempts)", "host": "\(host)", "error": "\(problem)",
        ]
        if let next { metadata["next_attempt_at"] = "\(next)" }
        let message: Logger.Message =
            refusedByPolicy
            ? "webhook delivery refused by the outbound policy; dead-lettered"
            : dead ? "webhook delivery dead-lettered" : "webhook delivery failed; will retry"
        logger.warning(message, metadata: metadata)
    }

    /// Plain words for a failed send, naming the host only.
    static func describe(_ error: OutboundError) -> String {
        switch error {
        case .unreachable(let host): "Could not reach \(host)."
        case .timedOut(let host): "\(host) did not answer in time."
        case .responseTooLarge(let host, _): "The answer from \(host) was too large."
        case .blockedAddress: error.policyMessage ?? "The outbound policy refused the endpoint."
        case .unsupportedURL(let reason): "The endpoint URL is not one Latchkey calls (\(reason))."
        }
    }
}
