// The ceiling of the stack the proxy is built on, for `http/proxy.sh`: a bare Hummingbird application with no
// middleware whose one route relays `GET /relay/{path…}` to an upstream with AsyncHTTPClient (its shared client and
// connection pool, as Latchkey uses them), adding an `Authorization` header and streaming the answer back: no
// credential, no audit, no request log, no rate limit.
//
//     BareRelay PORT UPSTREAM_BASE_URL
//
// Listens on 127.0.0.1 only and prints LISTENING=PORT once it accepts connections.
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2, let port = Int(arguments[0]), (0...65535).contains(port), arguments[1].hasPrefix("http://") else {
    FileHandle.standardError.write(Data("usage: BareRelay PORT UPSTREAM_BASE_URL\n".utf8))
    exit(64)
}
let upstream = arguments[1].hasSuffix("/") ? String(arguments[1].dropLast()) : arguments[1]

var logger = Logger(label: "bare-relay")
logger.logLevel = .warning

let client = HTTPClient.shared
let router = Router()
router.get("relay/**") { request, context -> Response in
    let path = context.parameters.getCatchAll().joined(separator: "/")
    var outbound = HTTPClientRequest(url: "\(upstream)/\(path)")
    outbound.headers.add(name: "Authorization", value: "Bearer relay-token")
    let answer = try await client.execute(outbound, timeout: .seconds(30))
    var headers = HTTPFields()
    if let type = answer.headers.first(name: "Content-Type") { headers[.contentType] = type }
    let length = answer.headers.first(name: "Content-Length").flatMap(Int.init)
    if let length { headers[.contentLength] = String(length) }
    return Response(
        status: .init(code: Int(answer.status.code)),
        headers: headers,
        body: ResponseBody(contentLength: length) { writer in
            for try await chunk in answer.body { try await writer.write(chunk) }
            try await writer.finish(nil)
        }
    )
}

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
