// The baseline for the HTTP benchmark: a bare Hummingbird application with one JSON route and no middleware.
//
//     BareServer PORT
//
// GET /json answers {"status":"ok","value":42}. Listens on 127.0.0.1 only.
import Foundation
import Hummingbird
import Logging

struct Answer: ResponseEncodable {
    let status: String
    let value: Int
}

let arguments = CommandLine.arguments.dropFirst()
guard let portText = arguments.first, let port = Int(portText), (0...65535).contains(port) else {
    FileHandle.standardError.write(Data("usage: BareServer PORT\n".utf8))
    exit(64)
}

var logger = Logger(label: "bare-server")
logger.logLevel = .warning

let router = Router()
router.get("json") { _, _ in Answer(status: "ok", value: 42) }

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    onServerRunning: { channel in
        let actual = channel.localAddress?.port ?? port
        FileHandle.standardOutput.write(Data("LISTENING=\(actual)\n".utf8))
    },
    logger: logger
)
try await app.runService()
