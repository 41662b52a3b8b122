import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and export the audit log.",
        subcommands: [Verify.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the tenant's hash chain; exits 1 when an event was edited, deleted or reordered."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let intact = try await CLI.withRuntime(global) { runtime -> Bool in
                let tenant = try await runtime.tenant(global.tenant)
                let result = try await runtime.audit.verify(tenantID: tenant.id) { count in
                    if count % 10_000 == 0 { CLI.printError("checked \(count) events…") }
                }
                if let checkpoint = result.checkpoint {
                    print(
                        "Verifying from the retention checkpoint at #\(checkpoint.seq) (events before "
                            + "\(checkpoint.prunedBefore.ISO8601Format()) were pruned on \(checkpoint.createdAt.ISO8601Format()))."
                    )
                }
                if result.isIntact {
                    print("The audit log of tenant \(tenant.slug) is intact: \(result.count) events, every link verified.")
                    return true
                }
                print("The audit log of tenant \(tenant.slug) has been tampered with (\(result.count) events read):")
                for problem in result.problems.prefix(50) { print("  - \(problem)") }
                if result.problems.count > 50 { print("  … and \(result.problems.count - 50) more") }
                return false
            }
            if !intact { throw ExitCode(1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export the tenant's audit log as JSON lines or CSV.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "jsonl or csv.") var format = "jsonl"
        @Option(help: "File to write (default: standard output).") var output: String?

        func run() async throws {
            guard let exportFormat = AuditExport.Format(rawValue: format) else { throw ValidationError("--format must be jsonl or csv") }
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let handle: FileHandle
                if let output {
                    guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]),
                        let file = FileHandle(forWritingAtPath: output)
                    else { throw CLIError("Cannot write \(output).") }
                    handle = file
                } else {
                    handle = FileHandle.standardOutput
                }
                try await AuditExport.write(audit: runtime.audit, tenantID: tenant.id, format: exportFormat) { chunk in
                    handle.write(Data(chunk.utf8))
                }
                if output != nil { try handle.close() }
            }
        }
    }
}
