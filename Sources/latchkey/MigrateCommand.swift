import ArgumentParser
import LatchkeyBootstrap
import LatchkeyStorage

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply database migrations and exit.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CLI.withRuntime(global, allowEmptyPostgres: true) { runtime in
            print("The database (\(runtime.database.configuration)) is at schema version \(Migrations.latestVersion).")
        }
    }
}
