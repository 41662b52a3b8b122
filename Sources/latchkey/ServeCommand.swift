import ArgumentParser
import Foundation
import Hummingbird
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Latchkey server.",
        discussion: """
            With no configuration: SQLite and a generated master key in ./latchkey-data, listening on 127.0.0.1:8080.

            Settings read from the environment only:
              LATCHKEY_MASTER_KEY           base64 of 32 random bytes instead of the
                                            key file (required when instances share
                                            one PostgreSQL database)
              LATCHKEY_KMS_KEY_ID           an AWS KMS key id, ARN or alias: the master
                                            key becomes a KMS data key (with AWS_REGION,
                                            AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                                            AWS_SESSION_TOKEN; LATCHKEY_KMS_ENDPOINT for
                                            another endpoint)
              LATCHKEY_LOG_LEVEL            trace, debug, info (default), warning, error
              LATCHKEY_REWRAP_BATCH_SIZE    rows per re-wrap batch (default 200)
              LATCHKEY_REWRAP_PAUSE_MS      pause between re-wrap batches (default 0)
              LATCHKEY_KEYRING_POLL_MS      rotation check interval (default 5000)
              LATCHKEY_REFRESH_POLL_MS      look for tokens due this often (default 1000)
              LATCHKEY_REFRESH_CONCURRENCY  refreshes at once per instance (default 16)
              LATCHKEY_REQUEST_LOG_RETENTION_DAYS
                                            days the request log keeps its entries
                                            (default 30)
              LATCHKEY_OAUTH_ACCESS_TOKEN_TTL
                                            seconds an MCP client's access token is
                                            accepted (default 3600)
              LATCHKEY_OAUTH_TOKEN_RATE     /oauth/token requests a minute per client
                                            and address before 429 (default 300)
              LATCHKEY_PROXY_MAX_UPLOAD_MB  largest request body the proxy relays
                                            (default 100)
              LATCHKEY_PROXY_MAX_DOWNLOAD_MB
                                            largest answer the proxy relays
                                            (default 1024)
              LATCHKEY_DEGRADED_TTL         seconds a credential or key resolved lately
                                            may be used while the database is
                                            unreachable (0 to 300, 0 = off; default 120)
              LATCHKEY_DEGRADED_AUDIT_HOLD  audit events held in memory meanwhile
                                            (default 10000)
              LATCHKEY_INCIDENT_LEASE_SECONDS
                                            seconds an incident revocation run holds
                                            its job before it is resumed elsewhere
                                            (1 to 3600, for tests; default 60)
              LATCHKEY_SYNC_POLL_MS         look for reference data due this often
                                            (default 5000)
              LATCHKEY_SYNC_LEASE_SECONDS   seconds a sync run holds its job before it
                                            is resumed elsewhere (1 to 3600, for tests;
                                            default 120)
              LATCHKEY_SMTP_PASSWORD        the mail server's password (with
                                            --smtp-username; never printed)
              OTEL_EXPORTER_OTLP_ENDPOINT   export OpenTelemetry traces over OTLP/HTTP
                                            (e.g. http://collector:4318); also
                                            OTEL_TRACES_EXPORTER, OTEL_SERVICE_NAME,
                                            OTEL_EXPORTER_OTLP_PROTOCOL (off when unset)
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to listen on (env LATCHKEY_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (env LATCHKEY_PORT; default 8080).")
    var port: Int?

    @Option(help: "URL people reach this server at (env LATCHKEY_PUBLIC_URL; default http://HOST:PORT).")
    var publicURL: String?

    @Option(help: "Log format, text or json (env LATCHKEY_LOG_FORMAT; default text).")
    var logFormat: String?

    @Flag(
        help:
            "Also serve a built-in sandbox OAuth provider under /sandbox and enable it, to try connecting without a real OAuth app (env LATCHKEY_DEMO)."
    )
    var demo = false

    @Flag(
        help:
            "Allow calls to loopback and private-network addresses, e.g. a provider on this machine (env LATCHKEY_ALLOW_PRIVATE_NETWORK; on with --demo)."
    )
    var allowPrivateNetwork = false

    @Option(
        help: ArgumentHelp(
            "Close a connection that sends nothing for this many seconds: while its request arrives or between requests (env LATCHKEY_IDLE_TIMEOUT; default 10).",
            valueName: "seconds"
        )
    )
    var idleTimeout: String?

    @Option(
        help: ArgumentHelp(
            "Sign a console session out after this long without a request: minutes, or e.g. 90m, 2h, 1d (env LATCHKEY_SESSION_IDLE; default 2h).",
            valueName: "duration"
        )
    )
    var sessionIdle: String?

    @Option(
        help: ArgumentHelp(
            "Sign a console session out this long after sign-in, however active: minutes, or e.g. 12h, 7d (env LATCHKEY_SESSION_LIFETIME; default 12h).",
            valueName: "duration"
        )
    )
    var sessionLifetime: String?

    @Option(
        help: ArgumentHelp(
            "Reverse proxies whose X-Forwarded-For / Forwarded headers give the client address: IPs and CIDR ranges, comma-separated (env LATCHKEY_TRUSTED_PROXIES; default none).",
            valueName: "list"
        )
    )
    var trustedProxies: String?

    @Option(
        help: ArgumentHelp(
            "Prune audit events older than this many days, behind a signed checkpoint (env LATCHKEY_AUDIT_RETENTION_DAYS; default 400).",
            valueName: "days"
        )
    )
    var auditRetentionDays: String?

    @Option(help: ArgumentHelp("Mail server for email sign-in codes; without one they are not offered (env LATCHKEY_SMTP_HOST).", valueName: "host"))
    var smtpHost: String?

    @Option(help: ArgumentHelp("Mail server port (env LATCHKEY_SMTP_PORT; default 587).", valueName: "port"))
    var smtpPort: String?

    @Option(
        help: ArgumentHelp(
            "STARTTLS with the mail server: required or off (env LATCHKEY_SMTP_STARTTLS; default required, off for a loopback host).",
            valueName: "mode"
        )
    )
    var smtpStarttls: String?

    @Option(
        help: ArgumentHelp(
            "Mail server username (env LATCHKEY_SMTP_USERNAME); its password comes from LATCHKEY_SMTP_PASSWORD only.",
            valueName: "name"
        )
    )
    var smtpUsername: String?

    @Option(help: ArgumentHelp("Address sign-in codes are sent from (env LATCHKEY_SMTP_FROM).", valueName: "address"))
    var smtpFrom: String?

    @Option(
        help: ArgumentHelp(
            "Rotate the data key when it is this many days old; 0 turns scheduled rotation off (env LATCHKEY_KEY_ROTATION_DAYS; default 90).",
            valueName: "days"
        )
    )
    var keyRotationDays: String?

    @Option(
        help: ArgumentHelp(
            "Serve HTTPS with this PEM certificate chain, reloaded on SIGHUP; needs --tls-key (env LATCHKEY_TLS_CERT; default plain HTTP).",
            valueName: "file"
        )
    )
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert (env LATCHKEY_TLS_KEY).", valueName: "file"))
    var tlsKey: String?

    func run() async throws {
        var configuration = try global.configuration()
        do {
            if let keyRotationDays {
                configuration.keyRotation.rotationDays = try ServerConfiguration.keyRotationDays(keyRotationDays, setting: "--key-rotation-days")
            }
            if let idleTimeout { configuration.idleTimeout = try ServerConfiguration.idleTimeout(idleTimeout, setting: "--idle-timeout") }
            if let trustedProxies { configuration.trustedProxies = try TrustedProxies(parsing: trustedProxies) }
            if let auditRetentionDays {
                configuration.auditRetentionDays = try ServerConfiguration.auditRetentionDays(auditRetentionDays, setting: "--audit-retention-days")
            }
            if [smtpHost, smtpPort, smtpStarttls, smtpUsername, smtpFrom].contains(where: { $0 != nil }) {
                let environment = ProcessInfo.processInfo.environment
                configuration.smtp = try ServerConfiguration.smtp(
                    host: smtpHost ?? environment["LATCHKEY_SMTP_HOST"],
                    port: smtpPort ?? environment["LATCHKEY_SMTP_PORT"],
                    startTLS: smtpStarttls ?? environment["LATCHKEY_SMTP_STARTTLS"],
                    username: smtpUsername ?? environment["LATCHKEY_SMTP_USERNAME"],
                    password: environment["LATCHKEY_SMTP_PASSWORD"],
                    from: smtpFrom ?? environment["LATCHKEY_SMTP_FROM"],
                    names: ["--smtp-host", "--smtp-port", "--smtp-starttls", "--smtp-from"]
                )
            }
            if tlsCert != nil || tlsKey != nil {
                let environment = ProcessInfo.processInfo.environment
                configuration.tls = try TLSFiles.from(
                    certificate: tlsCert ?? environment["LATCHKEY_TLS_CERT"],
                    key: tlsKey ?? environment["LATCHKEY_TLS_KEY"],
                    names: ("--tls-cert", "--tls-key")
                )
            }
            if let sessionIdle { configuration.sessionIdle = try ServerConfiguration.sessionDuration(sessionIdle, setting: "--session-idle") }
            if let sessionLifetime {
                configuration.sessionLifetime = try ServerConfiguration.sessionDuration(sessionLifetime, setting: "--session-lifetime")
            }
        } catch {
            throw ValidationError("\(error)")
        }
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            configuration.port = port
        }
        if let publicURL { configuration.publicURL = publicURL }
        if demo { configuration.demo = true }
        if allowPrivateNetwork { configuration.allowPrivateNetwork = true }
        if configuration.demo { configuration.allowPrivateNetwork = true }
        do { try configuration.validate() } catch { throw ValidationError("\(error)") }
        if let logFormat {
            guard let format = LatchkeyLogHandler.Format(rawValue: logFormat) else { throw ValidationError("--log-format must be text or json") }
            configuration.logFormat = format
        }

        let format = configuration.logFormat
        let level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LATCHKEY_LOG_LEVEL"] ?? "info") ?? .info
        LoggingSystem.bootstrap { label in LatchkeyLogHandler(label: label, format: format, level: level) }
        let registry = PrometheusCollectorRegistry()
        let factory = LatchkeyMetricsFactory(registry: registry)
        factory.exportCatalogue()
        MetricsSystem.bootstrap(factory)
        let logger = Logger(label: "latchkey")
        FileLimit.raise(logger: logger)
        let tracing: (any Service)?
        do {
            tracing = try Self.bootstrapTracing(environment: ProcessInfo.processInfo.environment, logger: logger)
        } catch {
            CLI.printError("latchkey: cannot start: \(CLI.message(for: error))")
            throw ExitCode(2)
        }

        let runtime: LatchkeyRuntime
        var dependencies = ApplicationDependencies(registry: registry)
        do {
            // A certificate that cannot be served is named before anything is opened.
            if let files = configuration.tls { dependencies.tls = try TLSCertificates(files: files, logger: logger) }
            // A broken API document is named before anything is opened, like a bad catalog entry.
            do {
                _ = try OpenAPIDocument.data()
            } catch {
                throw ConfigurationError("The OpenAPI document is not valid: \(error.description)")
            }
            runtime = try await LatchkeyRuntime.bootstrap(configuration: configuration, logger: logger)
        } catch {
            CLI.printError("latchkey: cannot start: \(CLI.message(for: error))")
            throw ExitCode(2)
        }
        if runtime.createdMasterKey, configuration.kms != nil {
            Self.say(
                "A new master key was generated by \(configuration.keyProvider.sourceDescription); only its KMS-wrapped form is stored, in the database."
            )
        } else if runtime.createdMasterKey {
            Self.say(
                """

                ┌─────────────────────────────────────────────────────────────────────────────┐
                  A new master key was written to \(configuration.keyProvider.sourceDescription).
                  BACK THIS FILE UP NOW. Without it, the credentials stored here cannot be read.
                └─────────────────────────────────────────────────────────────────────────────┘

                """
            )
        }
        let setupToken = try await runtime.tenants.issueSetupToken(tenantID: runtime.defaultTenant.id)
        let shownConfiguration = configuration
        let app = buildApplication(runtime: runtime, dependencies: dependencies) { channel in
            let configuration = shownConfiguration
            let actualPort = channel.localAddress?.port ?? configuration.port
            var shown = configuration
            shown.port = actualPort
            let base = shown.effectivePublicURL
            let scheme = configuration.tls == nil ? "http" : "https"
            Self.say("Latchkey is listening on \(scheme)://\(configuration.host):\(actualPort) (\(runtime.database.configuration))")
            if configuration.demo {
                Self.say(
                    "Demo mode: the sandbox provider is at \(base)/sandbox and enabled as the integration 'sandbox'. Sign in at \(base)/login and open \(base)/connections."
                )
            }
            if let setupToken {
                Self.say(
                    "No administrator yet. Create one (link valid 24 hours, works once; links printed earlier no longer work): \(base)/setup?token=\(setupToken)"
                )
            }
        }
        guard let tracing else { return try await app.runService() }
        // The exporter stops after the server (services stop in reverse order), so the last spans are sent.
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: tracing), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await services.run()
    }

    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
