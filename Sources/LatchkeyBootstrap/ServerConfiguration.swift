import Foundation
public import LatchkeyCore
public import LatchkeyIdentity
public import LatchkeyLifecycle
public import LatchkeyStorage
import Logging

/// Everything `latchkey serve` can be told, read in one place (flags, then environment, then defaults).
public struct ServerConfiguration: Sendable {
    /// Address to listen on (`--host`, `LATCHKEY_HOST`); 127.0.0.1 by default.
    public var host: String = "127.0.0.1"
    /// Port (`--port`, `LATCHKEY_PORT`); 8080 by default, 0 picks a free one.
    public var port: Int = 8080
    /// Where the SQLite file and the generated master key live (`--data-dir`, `LATCHKEY_DATA_DIR`).
    public var dataDirectory: String = "./latchkey-data"
    /// The URL people reach this server at (`--public-url`, `LATCHKEY_PUBLIC_URL`); derived from host and port by default.
    public var publicURL: String?
    /// `postgres://…` switches from SQLite to PostgreSQL (`--database-url`, `LATCHKEY_DATABASE_URL`). Secret: never printed.
    public var databaseURL: String?
    /// Base64 master key (`LATCHKEY_MASTER_KEY`). Secret: never printed.
    public var masterKey: String?
    /// text or json (`--log-format`, `LATCHKEY_LOG_FORMAT`).
    public var logFormat: LatchkeyLogHandler.Format = .text
    /// AWS KMS wraps the master key (`LATCHKEY_KMS_KEY_ID` with `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `LATCHKEY_KMS_ENDPOINT` or `AWS_ENDPOINT_URL_KMS`). The secrets in it are never printed.
    public var kms: KMSSettings?
    /// Scheduled data-key rotation (`--key-rotation-days`, `LATCHKEY_KEY_ROTATION_DAYS`; 90 by default, 0 = off).
    public var keyRotation = KeyRotationScheduler.Configuration()
    /// Background re-wrap pacing (`LATCHKEY_REWRAP_BATCH_SIZE`, `LATCHKEY_REWRAP_PAUSE_MS`, `LATCHKEY_KEYRING_POLL_MS`).
    public var rewrap = KeyRewrapService.Configuration()
    /// A connection that sends nothing for this long is closed (`--idle-timeout`, `LATCHKEY_IDLE_TIMEOUT`, seconds;
    /// default 10): a request head must arrive in full within it, a body must not pause longer, and a kept-alive
    /// connection may wait this long for its next request.
    public var idleTimeout: Duration = .seconds(10)
    /// A console session ends after this long without a request (`--session-idle`, `LATCHKEY_SESSION_IDLE`; minutes,
    /// or with a unit such as `90m`, `2h`, `1d`); two hours by default.
    public var sessionIdle: Duration = .seconds(2 * 3600)
    /// A console session ends this long after sign-in however active it is (`--session-lifetime`,
    /// `LATCHKEY_SESSION_LIFETIME`, written like `sessionIdle`); twelve hours by default.
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers give the client address (`--trusted-proxies`,
    /// `LATCHKEY_TRUSTED_PROXIES`); none by default.
    public var trustedProxies = TrustedProxies()
    /// The largest request body accepted.
    public var maxBodySize: Int = 1024 * 1024
    /// The largest request body the proxy relays, streamed (`LATCHKEY_PROXY_MAX_UPLOAD_MB`); 100 MiB by default.
    public var proxyMaxUploadBytes: Int = 100 << 20
    /// The largest answer the proxy relays, streamed (`LATCHKEY_PROXY_MAX_DOWNLOAD_MB`); 1 GiB by default.
    public var proxyMaxDownloadBytes: Int = 1 << 30
    /// Serve the built-in sandbox provider under `/sandbox/…` and enable it as an integration (`--demo`, `LATCHKEY_DEMO`).
    public var demo = false
    /// Allow outbound calls to loopback, private and link-local addresses, and plain http to them
    /// (`--allow-private-network`, `LATCHKEY_ALLOW_PRIVATE_NETWORK`). On with `--demo`.
    public var allowPrivateNetwork = false

    /// Refresh of access tokens: lease length, margin, retries.
    public var refresh = RefreshCoordinator.Configuration()
    /// The background refresher's pacing (`LATCHKEY_REFRESH_POLL_MS`, `LATCHKEY_REFRESH_CONCURRENCY`).
    public var refreshService = RefreshService.Configuration()
    /// How many days request-log entries are kept (`LATCHKEY_REQUEST_LOG_RETENTION_DAYS`, 1 to 3650); 30 by default.
    public var requestLogRetentionDays = 30
    /// How many days audit events are kept before they are pruned behind a signed checkpoint
    /// (`--audit-retention-days`, `LATCHKEY_AUDIT_RETENTION_DAYS`, 1 to 36500); 400 by default.
    public var auditRetentionDays = 400
    /// How long an incident revocation run holds its job without a sign of life before another process (or this one,
    /// after a restart) resumes it, in seconds (`LATCHKEY_INCIDENT_LEASE_SECONDS`, 1 to 3600; meant for tests, which
    /// cannot wait a minute); 60 by default. Interrupted runs are looked for at start and then once per lease.
    public var incidentLeaseSeconds = 60
    /// How often reference-data sync looks for due jobs (`LATCHKEY_SYNC_POLL_MS`, 100 to 600000); 5 s by default.
    public var syncPollMilliseconds = 5000
    /// How long a sync run holds its job without saving a page before another process (or this one, after a restart)
    /// resumes it from its last saved page, in seconds (`LATCHKEY_SYNC_LEASE_SECONDS`, 1 to 3600; meant for tests);
    /// 120 by default.
    public var syncLeaseSeconds = 120
    /// How long an access token of the OAuth authorization server (`/oauth/token`) is accepted, in seconds
    /// (`LATCHKEY_OAUTH_ACCESS_TOKEN_TTL`, 60 to 86400); one hour by default.
    public var oauthAccessTokenLifetime = 3600
    /// Requests `/oauth/token` answers per minute for one client from one address before 429
    /// (`LATCHKEY_OAUTH_TOKEN_RATE`, 1 to 1000000); 300 by default — far above what a client needs (a refresh an hour).
    public var oauthTokenRate = 300
    /// Degraded mode while the database is unreachable (`LATCHKEY_DEGRADED_TTL`, seconds from 0 (off) to 300, 120 by
    /// default; `LATCHKEY_DEGRADED_AUDIT_HOLD`, audit events held in memory, 10000 by default).
    public var degradedMode = DatabaseAvailability.DegradedMode()
    /// The mail server of email sign-in codes (`--smtp-*`, `LATCHKEY_SMTP_*`); without one, no email codes are offered.
    public var smtp: SMTPSettings?
    /// Serve HTTPS with this certificate and key (`--tls-cert`/`--tls-key`, `LATCHKEY_TLS_CERT`/`LATCHKEY_TLS_KEY`);
    /// plain HTTP (behind a TLS-terminating proxy, or on loopback) without.
    public var tls: TLSFiles?

    /// Whether the console's cookies are marked `Secure` (the public URL is https).
    public var secureCookies: Bool { effectivePublicURL.lowercased().hasPrefix("https://") }
    /// The one OAuth callback every provider redirects to.
    public var callbackURL: String { effectivePublicURL + "/connect/callback" }

    public init() {}

    public var effectivePublicURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        let shownHost = host == "0.0.0.0" ? "127.0.0.1" : host
        return "\(tls == nil ? "http" : "https")://\(shownHost):\(port)"
    }

    public var database: DatabaseConfiguration {
        get throws {
            if let databaseURL, !databaseURL.isEmpty { return try .postgres(url: databaseURL) }
            return .sqlite(path: (dataDirectory as NSString).appendingPathComponent("latchkey.sqlite"))
        }
    }

    /// The master key source: AWS KMS with `LATCHKEY_KMS_KEY_ID`, `LATCHKEY_MASTER_KEY` when set, else the key file in
    /// the data directory.
    public var keyProvider: any KeyProvider {
        if let kms { return KMSKeyProvider(settings: kms) }
        if let masterKey, !masterKey.isEmpty { return EnvironmentKeyProvider(value: masterKey) }
        return KeyFileProvider(path: (dataDirectory as NSString).appendingPathComponent("master.key"))
    }

    static func flag(_ name: String, _ value: String) throws -> Bool {
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError("\(name) must be true or false, got \(value)")
        }
    }

    /// Checks the settings that can be wrong in ways a person should hear about before the server starts.
    public func validate() throws {
        guard let url = URL(string: effectivePublicURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil, url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw ConfigurationError("The public URL must be an http(s) URL such as https://latchkey.example.com, got \(effectivePublicURL)")
        }
        if kms != nil, let masterKey, !masterKey.isEmpty {
            throw ConfigurationError("Both LATCHKEY_KMS_KEY_ID and LATCHKEY_MASTER_KEY are set; choose one master key source")
        }
        guard sessionIdle <= sessionLifetime else {
            throw ConfigurationError(
                "The session idle limit (\(Self.describe(sessionIdle))) is longer than the session lifetime (\(Self.describe(sessionLifetime))); make it shorter, or the lifetime longer"
            )
        }
    }

    /// Parses a console session duration for `--session-idle`, `LATCHKEY_SESSION_IDLE`, `--session-lifetime` or
    /// `LATCHKEY_SESSION_LIFETIME`: a whole number of minutes (`90`), or one with a unit `m`, `h` or `d` (`90m`, `2h`,
    /// `1d`); from 1 minute to 90 days.
    public static func sessionDuration(_ value: String, setting: String) throws -> Duration {
        let text = value.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Int64] = ["m": 60, "h": 3600, "d": 86400]
        var number = Substring(text)
        var unit: Int64 = 60
        if let last = text.last, let seconds = units[last] {
            number = text.dropLast()
            unit = seconds
        }
        // At most six digits, so that the product cannot overflow before the range check.
        guard (1...6).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(number),
            (60...(90 * 86400)).contains(count * unit)
        else {
            throw ConfigurationError(
                "\(setting) must be a number of minutes, or one with a unit such as 90m, 2h or 1d, from 1 minute to 90 days; got \(value)"
            )
        }
        return .seconds(count * unit)
    }

    /// "2h", "90m", "1d": a session duration as the settings take it.
    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        return "\(seconds / 60)m"
    }

    /// The mail server settings from their parts (flags or variables, named in `names`: host, port, STARTTLS, from);
    /// nil without a host. STARTTLS is `required` or `off`, required by default unless the host is this machine.
    public static func smtp(
        host: String?,
        port: String?,
        startTLS: String?,
        username: String?,
        password: String?,
        from: String?,
        names: [String]
    ) throws -> SMTPSettings? {
        guard let host = host?.trimmingCharacters(in: .whitespaces), !host.isEmpty else { return nil }
        var portNumber = 587
        if let port, !port.isEmpty {
            guard let number = Int(port.trimmingCharacters(in: .whitespaces)), (1...65535).contains(number) else {
                throw ConfigurationError("\(names[1]) must be a port number, got \(port)")
            }
            portNumber = number
        }
        var security: SMTPSettings.Security?
        if let startTLS, !startTLS.isEmpty {
            guard let value = SMTPSettings.Security(rawValue: startTLS.lowercased()) else {
                throw ConfigurationError("\(names[2]) must be required or off, got \(startTLS)")
            }
            security = value
        }
        guard let from = from?.trimmingCharacters(in: .whitespaces), !from.isEmpty else {
            throw ConfigurationError("\(names[3]) is needed with \(names[0]): the address sign-in codes are sent from")
        }
        let settings = SMTPSettings(
            host: host,
            port: portNumber,
            security: security,
            username: username.flatMap { $0.isEmpty ? nil : $0 },
            password: password.flatMap { $0.isEmpty ? nil : $0 },
            from: from
        )
        if let problem = settings.problem { throw ConfigurationError(problem) }
        return settings
    }

    /// Parses a number of days from 1 to 36500 for `--audit-retention-days` or `LATCHKEY_AUDIT_RETENTION_DAYS`.
    public static func auditRetentionDays(_ value: String, setting: String) throws -> Int {
        guard let days = Int(value.trimmingCharacters(in: .whitespaces)), (1...36_500).contains(days) else {
            throw ConfigurationError("\(setting) must be a number of days from 1 to 36500; got \(value)")
        }
        return days
    }

    /// Parses a number of seconds (decimals allowed) from 0.1 to 3600 for `--idle-timeout` or `LATCHKEY_IDLE_TIMEOUT`.
    public static func idleTimeout(_ value: String, setting: String) throws -> Duration {
        guard let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds.isFinite, (0.1...3600).contains(seconds) else {
            throw ConfigurationError("\(setting) must be a number of seconds from 0.1 to 3600, got \(value)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Parses the days between scheduled data-key rotations: 0 (off) to 3650.
    public static func keyRotationDays(_ value: String, setting: String) throws -> Int {
        guard let days = Int(value.trimmingCharacters(in: .whitespaces)), (0...3650).contains(days) else {
            throw ConfigurationError("\(setting) must be a number of days from 0 (no scheduled rotation) to 3650, got \(value)")
        }
        return days
    }

    /// Parses a whole number of MiB from 1 to 1,048,576 (1 TiB) into bytes.
    static func mebibytes(_ value: String, setting: String) throws -> Int {
        guard let count = Int(value.trimmingCharacters(in: .whitespaces)), (1...(1 << 20)).contains(count) else {
            throw ConfigurationError("\(setting) must be a whole number of MiB from 1 to 1048576, got \(value)")
        }
        return count << 20
    }

    /// Applies `LATCHKEY_*` variables for every setting not given as a flag.
    public mutating func applyEnvironment(_ environment: [String: String]) throws {
        if let settings = try Self.smtp(
            host: environment["LATCHKEY_SMTP_HOST"],
            port: environment["LATCHKEY_SMTP_PORT"],
            startTLS: environment["LATCHKEY_SMTP_STARTTLS"],
            username: environment["LATCHKEY_SMTP_USERNAME"],
            password: environment["LATCHKEY_SMTP_PASSWORD"],
            from: environment["LATCHKEY_SMTP_FROM"],
            names: ["LATCHKEY_SMTP_HOST", "LATCHKEY_SMTP_PORT", "LATCHKEY_SMTP_STARTTLS", "LATCHKEY_SMTP_FROM"]
        ) {
            smtp = settings
        }
        if let files = try TLSFiles.from(
            certificate: environment["LATCHKEY_TLS_CERT"],
            key: environment["LATCHKEY_TLS_KEY"],
            names: ("LATCHKEY_TLS_CERT", "LATCHKEY_TLS_KEY")
        ) {
            tls = files
        }
        if let value = environment["LATCHKEY_HOST"], !value.isEmpty { host = value }
        if let value = environment["LATCHKEY_PORT"], !value.isEmpty {
            guard let port = Int(value), (0...65535).contains(port) else {
                throw ConfigurationError("LATCHKEY_PORT must be a port number, got \(value)")
            }
            self.port = port
        }
        if let value = environment["LATCHKEY_DATA_DIR"], !value.isEmpty { dataDirectory = value }
        if let value = environment["LATCHKEY_PUBLIC_URL"], !value.isEmpty { publicURL = value }
        if let value = environment["LATCHKEY_DATABASE_URL"], !value.isEmpty { databaseURL = value }
        if let value = environment["LATCHKEY_MASTER_KEY"] { masterKey = value }
        if let value = environment["LATCHKEY_LOG_FORMAT"], !value.isEmpty {
            guard let format = LatchkeyLogHandler.Format(rawValue: value) else {
                throw ConfigurationError("LATCHKEY_LOG_FORMAT must be text or json")
            }
            logFormat = format
        }
        if let value = environment["LATCHKEY_IDLE_TIMEOUT"], !value.isEmpty {
            idleTimeout = try Self.idleTimeout(value, setting: "LATCHKEY_IDLE_TIMEOUT")
        }
        if let value = environment["LATCHKEY_SESSION_IDLE"], !value.isEmpty {
            sessionIdle = try Self.sessionDuration(value, setting: "LATCHKEY_SESSION_IDLE")
        }
        if let value = environment["LATCHKEY_SESSION_LIFETIME"], !value.isEmpty {
            sessionLifetime = try Self.sessionDuration(value, setting: "LATCHKEY_SESSION_LIFETIME")
        }
        if let value = environment["LATCHKEY_TRUSTED_PROXIES"], !value.isEmpty {
            trustedProxies = try TrustedProxies(parsing: value, setting: "LATCHKEY_TRUSTED_PROXIES")
        }
        if let value = environment["LATCHKEY_DEMO"], !value.isEmpty { demo = try Self.flag("LATCHKEY_DEMO", value) || demo }
        if let value = environment["LATCHKEY_ALLOW_PRIVATE_NETWORK"], !value.isEmpty {
            allowPrivateNetwork = try Self.flag("LATCHKEY_ALLOW_PRIVATE_NETWORK", value) || allowPrivateNetwork
        }
        if let value = environment["LATCHKEY_REFRESH_POLL_MS"], !value.isEmpty {
            guard let ms = Int(value), ms > 0 else { throw ConfigurationError("LATCHKEY_REFRESH_POLL_MS must be a positive number of milliseconds") }
            refreshService.pollInterval = .milliseconds(ms)
        }
        if let value = environment["LATCHKEY_REFRESH_CONCURRENCY"], !value.isEmpty {
            guard let count = Int(value), (1...256).contains(count) else {
                throw ConfigurationError("LATCHKEY_REFRESH_CONCURRENCY must be a number from 1 to 256")
            }
            refreshService.concurrency = count
        }
        if let value = environment["LATCHKEY_REQUEST_LOG_RETENTION_DAYS"], !value.isEmpty {
            guard let days = Int(value), (1...3650).contains(days) else {
                throw ConfigurationError("LATCHKEY_REQUEST_LOG_RETENTION_DAYS must be a number of days from 1 to 3650")
            }
            requestLogRetentionDays = days
        }
        if let value = environment["LATCHKEY_INCIDENT_LEASE_SECONDS"], !value.isEmpty {
            guard let seconds = Int(value), (1...3600).contains(seconds) else {
                throw ConfigurationError("LATCHKEY_INCIDENT_LEASE_SECONDS must be a number of seconds from 1 to 3600")
            }
            incidentLeaseSeconds = seconds
        }
        if let value = environment["LATCHKEY_SYNC_POLL_MS"], !value.isEmpty {
            guard let ms = Int(value), (100...600_000).contains(ms) else {
                throw ConfigurationError("LATCHKEY_SYNC_POLL_MS must be a number of milliseconds from 100 to 600000")
            }
            syncPollMilliseconds = ms
        }
        if let value = environment["LATCHKEY_SYNC_LEASE_SECONDS"], !value.isEmpty {
            guard let seconds = Int(value), (1...3600).contains(seconds) else {
                throw ConfigurationError("LATCHKEY_SYNC_LEASE_SECONDS must be a number of seconds from 1 to 3600")
            }
            syncLeaseSeconds = seconds
        }
        if let value = environment["LATCHKEY_AUDIT_RETENTION_DAYS"], !value.isEmpty {
            auditRetentionDays = try Self.auditRetentionDays(value, setting: "LATCHKEY_AUDIT_RETENTION_DAYS")
        }
        if let value = environment["LATCHKEY_OAUTH_ACCESS_TOKEN_TTL"], !value.isEmpty {
            guard let seconds = Int(value), (60...86400).contains(seconds) else {
                throw ConfigurationError("LATCHKEY_OAUTH_ACCESS_TOKEN_TTL must be a number of seconds from 60 to 86400")
            }
            oauthAccessTokenLifetime = seconds
        }
        if let value = environment["LATCHKEY_OAUTH_TOKEN_RATE"], !value.isEmpty {
            guard let rate = Int(value), (1...1_000_000).contains(rate) else {
                throw ConfigurationError("LATCHKEY_OAUTH_TOKEN_RATE must be a number of requests a minute from 1 to 1000000")
            }
            oauthTokenRate = rate
        }
        if let value = environment["LATCHKEY_DEGRADED_TTL"], !value.isEmpty {
            guard let seconds = Int(value), (0...300).contains(seconds) else {
                throw ConfigurationError("LATCHKEY_DEGRADED_TTL must be a number of seconds from 0 (off) to 300")
            }
            degradedMode.lifetime = TimeInterval(seconds)
        }
        if let value = environment["LATCHKEY_DEGRADED_AUDIT_HOLD"], !value.isEmpty {
            guard let count = Int(value), (0...1_000_000).contains(count) else {
                throw ConfigurationError("LATCHKEY_DEGRADED_AUDIT_HOLD must be a number of audit events from 0 to 1000000")
            }
            degradedMode.heldAuditEvents = count
        }
        if let value = environment["LATCHKEY_PROXY_MAX_UPLOAD_MB"], !value.isEmpty {
            proxyMaxUploadBytes = try Self.mebibytes(value, setting: "LATCHKEY_PROXY_MAX_UPLOAD_MB")
        }
        if let value = environment["LATCHKEY_PROXY_MAX_DOWNLOAD_MB"], !value.isEmpty {
            proxyMaxDownloadBytes = try Self.mebibytes(value, setting: "LATCHKEY_PROXY_MAX_DOWNLOAD_MB")
        }
        if let settings = try KMSSettings.fromEnvironment(environment) { kms = settings }
        if let value = environment["LATCHKEY_KEY_ROTATION_DAYS"], !value.isEmpty {
            keyRotation.rotationDays = try Self.keyRotationDays(value, setting: "LATCHKEY_KEY_ROTATION_DAYS")
        }
        if let value = environment["LATCHKEY_REWRAP_BATCH_SIZE"], !value.isEmpty {
            guard let size = Int(value), size > 0 else { throw ConfigurationError("LATCHKEY_REWRAP_BATCH_SIZE must be a positive number") }
            rewrap.batchSize = size
        }
        if let value = environment["LATCHKEY_REWRAP_PAUSE_MS"], !value.isEmpty {
            guard let ms = Int(value), ms >= 0 else { throw ConfigurationError("LATCHKEY_REWRAP_PAUSE_MS must be a number of milliseconds") }
            rewrap.pause = .milliseconds(ms)
        }
        if let value = environment["LATCHKEY_KEYRING_POLL_MS"], !value.isEmpty {
            guard let ms = Int(value), ms > 0 else { throw ConfigurationError("LATCHKEY_KEYRING_POLL_MS must be a positive number of milliseconds") }
            rewrap.pollInterval = .milliseconds(ms)
        }
    }
}

/// A setting that cannot be used, said plainly.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
