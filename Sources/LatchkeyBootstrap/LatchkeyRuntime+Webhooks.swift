public import LatchkeyLifecycle
public import LatchkeyOAuthClient
public import LatchkeyStorage

extension LatchkeyRuntime {
    /// The tenant webhook and its outbox. Code that changes credentials or connections queues events with
    /// `webhooks.enqueue(type:tenantID:data:on:)` inside its own transaction.
    public var webhooks: WebhookOutbox {
        WebhookOutbox(database: database, keyring: keyring, audit: audit, clock: clock, logger: logger)
    }

    /// The background service that sends queued webhook events through `transport`.
    public func webhookDeliveryService(
        transport: any HTTPTransport,
        configuration: WebhookDeliveryService.Configuration = .init()
    ) -> WebhookDeliveryService {
        WebhookDeliveryService(
            outbox: webhooks,
            transport: transport,
            configuration: configuration,
            clock: clock,
            random: random,
            logger: logger
        )
    }
}
