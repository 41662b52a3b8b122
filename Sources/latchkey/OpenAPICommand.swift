import ArgumentParser
import LatchkeyBootstrap
import LatchkeyHTTP

struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the OpenAPI 3.1 document of /api/v1 (the same one GET /openapi.json serves)."
    )

    func run() throws {
        do {
            print(try OpenAPIDocument.text(), terminator: "")
        } catch {
            CLI.printError("latchkey: the OpenAPI document shipped with this binary is not valid: \(error.description)")
            throw ExitCode(1)
        }
    }
}
