import Foundation
public import LatchkeyCore
public import LatchkeyIdentity
public import LatchkeyProviders
public import LatchkeyStorage
public import Logging
public import ServiceLifecycle

/// Emails a console user once when a credential of theirs needs reconnecting (a refresh the provider refused, access
/// revoked there): not once per failed retry — the credential carries the mark that they were told, cleared when it
/// is reconnected (``ReauthNoticeRepository``). Runs where a mail server is configured (`--smtp-*`).
public struct ReauthNoticeService: Service {
    let notices: ReauthNoticeRepository
    let mailer: SMTPClient
    let catalog: ProviderCatalog
    let publicURL: String
    let interval: Duration
    let clock: any LatchkeyClock
    let logger: Logger

    public init(
        notices: ReauthNoticeRepository,
        mailer: SMTPClient,
        catalog: ProviderCatalog,
        publicURL: String,
        interval: Duration = .seconds(30),
        clock: any LatchkeyClock,
        logger: Logger
    ) {
        self.notices = notices
        self.mailer = mailer
        self.catalog = catalog
        self.publicURL = publicURL
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Runs until graceful shutdown, which ends it cleanly.
    public func run() async throws {
        await PeriodicWork.run(every: interval, clock: clock, logger: logger, failure: "re-authorization notices failed; will retry") {
            _ = try await runOnce()
        }
    }

    /// Tells every owner not told yet; returns how many emails went. An email that cannot be sent is tried again on a
    /// later pass.
    @discardableResult
    public func runOnce(limit: Int = 100) async throws -> Int {
        var sent = 0
        for notice in try await notices.pending(limit: limit) {
            guard notice.email.contains("@") else { continue }
            guard try await notices.claim(credentialID: notice.credentialID, now: clock.now) else { continue }
            let message = Self.message(for: notice, service: serviceName(notice), from: mailer.settings.from, publicURL: publicURL, date: clock.now)
            do {
                try await mailer.send(message)
                sent += 1
                logger.info(
                    "re-authorization notice sent",
                    metadata: ["credential_id": "\(notice.credentialID)", "integration": "\(notice.integrationKey)"]
                )
            } catch {
                try await notices.release(credentialID: notice.credentialID)
                logger.warning(
                    "re-authorization notice not sent; will retry",
                    metadata: ["credential_id": "\(notice.credentialID)", "error": "\(error.description)"]
                )
            }
        }
        return sent
    }

    func serviceName(_ notice: ReauthNotice) -> String {
        notice.displayName ?? catalog.provider(id: notice.provider)?.displayName ?? notice.integrationKey
    }

    /// The email: which service, which account, and where to reconnect. Nothing secret: no token, no code.
    static func message(for notice: ReauthNotice, service: String, from: String, publicURL: String, date: Date) -> EmailMessage {
        let account = notice.providerAccount.map { " (\($0))" } ?? ""
        return EmailMessage(
            from: from,
            to: notice.email,
            subject: "Reconnect \(service) to keep using it",
            body: """
                Hello \(notice.userName),

                Your \(service) connection\(account) stopped working: \(service) no longer accepts it, so tools and agents cannot act for you there until you reconnect.

                Reconnect it in your Connection Center:

                    \(publicURL)/connections

                You will get this email once; reconnecting is all it takes.
                """,
            date: date
        )
    }
}

extension LatchkeyRuntime {
    /// The service that emails people whose credential needs reconnecting; nil without a mail server.
    public func reauthNoticeService() -> ReauthNoticeService? {
        guard let smtp = configuration.smtp else { return nil }
        return ReauthNoticeService(
            notices: ReauthNoticeRepository(database: database),
            mailer: SMTPClient(settings: smtp),
            catalog: catalog,
            publicURL: configuration.effectivePublicURL,
            clock: clock,
            logger: logger
        )
    }
}
