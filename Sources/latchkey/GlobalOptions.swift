import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage
import Logging

/// Options every command takes: where the data is and which tenant to act on.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory for the SQLite file and the generated master key (env LATCHKEY_DATA_DIR; default ./latchkey-data).")
    var dataDir: String?

    @Option(name: .long, help: "postgres://user:password@host:5432/db to use PostgreSQL instead of SQLite (env LATCHKEY_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "Tenant slug to act on (default: the default tenant).")
    var tenant: String?

    /// Flags first, then `LATCHKEY_*` variables, then defaults.
    func configuration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        try configuration.applyEnvironment(ProcessInfo.processInfo.environment)
        if let dataDir { configuration.dataDirectory = dataDir }
        if let databaseURL { configuration.databaseURL = databaseURL }
        return configuration
    }
}

enum CLI {
    /// A quiet logger for one-shot commands: warnings and errors only, on standard error.
    static func logger(format: LatchkeyLogHandler.Format = .text, level: Logger.Level = .warning) -> Logger {
        Logger(label: "latchkey") { label in LatchkeyLogHandler(label: label, format: format, level: level) }
    }

    /// Opens the runtime for a one-shot command, runs `body`, and closes the database. Only `serve` creates a new
    /// vault: when there is none where the options point, this refuses and says where it looked. `migrate` may
    /// install the schema in an empty PostgreSQL database (`allowEmptyPostgres`), never a new SQLite data directory.
    static func withRuntime<T: Sendable>(
        _ options: GlobalOptions,
        allowEmptyPostgres: Bool = false,
        _ body: (LatchkeyRuntime) async throws -> T
    ) async throws -> T {
        let runtime: LatchkeyRuntime
        do {
            let configuration = try options.configuration()
            try await requireVault(configuration, allowEmptyPostgres: allowEmptyPostgres)
            runtime = try await LatchkeyRuntime.bootstrap(configuration: configuration, logger: logger())
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(message(for: error))
        }
        do {
            let result = try await body(runtime)
            await runtime.database.close()
            return result
        } catch {
            await runtime.database.close()
            if error is LatchkeyError || error is KeyError { throw CLIError(message(for: error)) }
            throw error
        }
    }

    /// Refuses to go on when no vault exists where `configuration` points.
    static func requireVault(_ configuration: ServerConfiguration, allowEmptyPostgres: Bool) async throws {
        let database = try configuration.database
        let howToPoint =
            "Point at the server's data with --data-dir DIR or LATCHKEY_DATA_DIR (SQLite), or --database-url or LATCHKEY_DATABASE_URL (PostgreSQL)."
        switch database {
        case .sqlite(let path):
            guard !FileManager.default.fileExists(atPath: path) else { return }
            let directory = URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path
            throw CLIError(
                "There is no Latchkey vault in \(directory) (no latchkey.sqlite there); nothing was created. Only `latchkey serve` creates a new vault. \(howToPoint)"
            )
        case .postgres:
            if allowEmptyPostgres { return }
            let opened = try await Database.open(database, logger: logger(level: .critical))
            let installed = await Migrations.isInstalled(on: opened)
            await opened.close()
            guard installed else {
                throw CLIError(
                    "The database (\(database)) holds no Latchkey vault; nothing was created. Start `latchkey serve` (or run `latchkey migrate`) against it first. \(howToPoint)"
                )
            }
        }
    }

    /// Plain words for a startup failure.
    static func message(for error: any Error) -> String {
        switch error {
        case let error as KeyError: error.description
        case let error as ConfigurationError: error.description
        case let error as LatchkeyError: error.message
        default: String(describing: error)
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A failure reported to the person at the terminal, without a stack of internals.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
