import Foundation
public import LatchkeyBootstrap
public import LatchkeyCore
import LatchkeyStorage
public import Logging

/// The databases a contract test runs against: SQLite always, PostgreSQL when `LATCHKEY_TEST_DATABASE_URL` is set.
public enum TestDatabases {
    public enum Kind: String, Sendable, CaseIterable {
        case sqlite, postgres
    }

    /// The kinds to run. Without `LATCHKEY_TEST_DATABASE_URL`, PostgreSQL is left out with a loud message, unless
    /// `LATCHKEY_REQUIRE_PEERS=1`, in which case it stays in and its tests fail.
    public static var kinds: [Kind] {
        if postgresURL != nil || ProcessInfo.processInfo.environment["LATCHKEY_REQUIRE_PEERS"] == "1" { return [.sqlite, .postgres] }
        warnOnce
        return [.sqlite]
    }

    public static var postgresURL: String? {
        let value = ProcessInfo.processInfo.environment["LATCHKEY_TEST_DATABASE_URL"]
        return value?.isEmpty == false ? value : nil
    }

    private static let warnOnce: Void = {
        FileHandle.standardError.write(
            Data(
                "\n*** SKIPPING PostgreSQL contract tests: LATCHKEY_TEST_DATABASE_URL is not set (scripts/test starts a PostgreSQL for you). ***\n\n"
                    .utf8
            )
        )
    }()

    /// A server configuration on a fresh, private database of `kind`: a temporary SQLite directory, or a new
    /// PostgreSQL schema. The master key comes from the environment variable form so tests never write key files
    /// unless they ask for it.
    public static func configuration(_ kind: Kind, masterKey: MasterKey? = .generate()) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-test-\(UUID().uuidString)").path
        configuration.masterKey = masterKey?.base64
        switch kind {
        case .sqlite:
            break
        case .postgres:
            guard let url = postgresURL else {
                throw ConfigurationError("LATCHKEY_REQUIRE_PEERS=1 but LATCHKEY_TEST_DATABASE_URL is not set: PostgreSQL tests cannot run.")
            }
            let separator = url.contains("?") ? "&" : "?"
            configuration.databaseURL =
                url + separator + "schema=t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        }
        return configuration
    }

    /// A bootstrapped runtime on a fresh database; closed (and its schema or files removed) after `body`.
    public static func withRuntime<T: Sendable>(
        _ kind: Kind,
        clock: any LatchkeyClock = TestClock(),
        random: any RandomSource = SystemRandom(),
        logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (LatchkeyRuntime) async throws -> T
    ) async throws -> T {
        var configuration = try configuration(kind)
        configure(&configuration)
        let runtime = try await LatchkeyRuntime.bootstrap(configuration: configuration, clock: clock, random: random, logger: logger)
        do {
            let result = try await body(runtime)
            await cleanUp(runtime)
            return result
        } catch {
            await cleanUp(runtime)
            throw error
        }
    }

    public static func cleanUp(_ runtime: LatchkeyRuntime) async {
        if case .postgres(let settings) = runtime.database.configuration, let schema = settings.schema {
            try? await runtime.database.dropSchema(schema)
        }
        await runtime.database.close()
        try? FileManager.default.removeItem(atPath: runtime.configuration.dataDirectory)
    }
}
