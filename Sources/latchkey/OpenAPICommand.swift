import ArgumentParser
import LatchkeyBootstrap
import LatchkeyHTTP

struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the OpenAPI 3.1 document of /api/v1 (the same one GET /openapi.json serves)."
    )

    func run() throws {
        print(OpenAPIDocument.json)
    }
}
