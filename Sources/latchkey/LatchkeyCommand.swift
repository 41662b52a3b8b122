import ArgumentParser
import LatchkeyBootstrap

@main
struct LatchkeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latchkey",
        abstract: "A self-hosted credential vault and delegated-auth gateway.",
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, TenantsCommand.self, KeysCommand.self, UsersCommand.self, AppsCommand.self, AuditCommand.self,
            OpenAPICommand.self, IncidentsCommand.self,
        ],
        defaultSubcommand: nil
    )
}
