import ArgumentParser
import Foundation
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

    /// Opens the runtime for a one-shot command, runs `body`, and closes the database.
    static func withRuntime<T: Sendable>(_ options: GlobalOptions, _ body: (LatchkeyRuntime) async throws -> T) async throws -> T {
        let runtime: LatchkeyRuntime
        do {
            runtime = try await LatchkeyRuntime.bootstrap(configuration: try options.configuration(), logger: logger())
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
