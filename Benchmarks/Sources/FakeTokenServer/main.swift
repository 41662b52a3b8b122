// The OAuth provider of the Connect benchmark: a bare Hummingbird application that answers like a provider's token and
// user-info endpoints, as cheaply as it can, so that whatever the Connect callback costs beyond it is Latchkey's own.
//
//     FakeTokenServer PORT
//
// POST /token      a fixed token response (JSON, 200) for any form that names a grant_type and carries client
//                  authentication (HTTP basic); 400 invalid_request / 401 invalid_client otherwise. Any code is accepted.
// GET  /userinfo   a fixed account ({"sub": …, "email": …, "name": …}) for any bearer token; 401 without one.
// GET  /authorize  200 with a short text: never followed by the benchmark, there so the URL is real.
//
// Listens on 127.0.0.1 only; prints LISTENING=PORT once connections are accepted.
import Foundation
import Hummingbird
import Logging

let arguments = CommandLine.arguments.dropFirst()
guard let portText = arguments.first, let port = Int(portText), (0...65535).contains(port) else {
    FileHandle.standardError.write(Data("usage: FakeTokenServer PORT\n".utf8))
    exit(64)
}

var logger = Logger(label: "fake-token-server")
logger.logLevel = .warning

enum Answers {
    // The sizes of a typical provider's answer: 40-character opaque tokens, an hour of validity, a refresh token.
    static let token = ByteBuffer(
        string: #"{"access_token":"fake-at-4fZ0qL7nR2vX9cB1mK8sD3hJ6wT5yP0e","token_type":"Bearer","expires_in":3600,"refresh_token":"fake-rt-8kQ2wE5rT7yU1iO3pA6sD9fG4hJ0lZ2x","scope":"read write"}"#
    )
    static let userInfo = ByteBuffer(string: #"{"sub":"bench-account-1","email":"bench-account@example.com","name":"Benchmark Account"}"#)

    static func json(_ status: HTTPResponse.Status, _ body: ByteBuffer) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: body)
        )
    }

    static func error(_ status: HTTPResponse.Status, _ code: String) -> Response {
        json(status, ByteBuffer(string: #"{"error":"\#(code)"}"#))
    }
}

let router = Router()
router.post("token") { request, _ -> Response in
    let form = try await request.body.collect(upTo: 64 * 1024)
    guard request.headers[.authorization]?.hasPrefix("Basic ") == true else { return Answers.error(.unauthorized, "invalid_client") }
    guard String(buffer: form).contains("grant_type=") else { return Answers.error(.badRequest, "invalid_request") }
    return Answers.json(.ok, Answers.token)
}
router.get("userinfo") { request, _ -> Response in
    guard request.headers[.authorization]?.hasPrefix("Bearer ") == true else { return Answers.error(.unauthorized, "invalid_token") }
    return Answers.json(.ok, Answers.userInfo)
}
router.get("authorize") { _, _ in "This fake provider does not show a consent page.\n" }

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
