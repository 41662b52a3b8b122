// The OAuth provider of the Connect and Refresh benchmarks: a bare Hummingbird application that answers like a provider's
// token and user-info endpoints, as cheaply as it can, so that whatever Latchkey costs beyond it is Latchkey's own.
//
//     FakeTokenServer PORT
//
// POST /token      a fixed token response (JSON, 200) for any form that names a grant_type and carries client
//                  authentication (HTTP basic); 400 invalid_request / 401 invalid_client otherwise. Any code is accepted.
//                  grant_type=refresh_token is counted: every call is recorded (the refresh token presented, the wall
//                  clock time) and answered with a new access token and a rotated refresh token, "BASE" or "BASE.N"
//                  becoming "BASE.N+1", so that each credential's tokens keep its base name. The same refresh token
//                  presented twice, or one base refreshed more than once, is a duplicate refresh. A refresh_token
//                  grant without a refresh_token is 400 invalid_request.
// GET  /_stats     the refresh counts as JSON: {"refreshCalls", "distinctTokens", "distinctBases", "sameTokenAgain",
//                  "basesMoreThanOnce", "first", "last", "calls": [[unix seconds, "token presented"], …]} (calls in the
//                  order they were answered). "?calls=0" leaves the list out.
// GET  /userinfo   a fixed account ({"sub": …, "email": …, "name": …}) for any bearer token; 401 without one.
// GET  /authorize  200 with a short text: never followed by the benchmark, there so the URL is real.
//
// Listens on 127.0.0.1 only; prints LISTENING=PORT once connections are accepted.
import Foundation
import Hummingbird
import Logging
import Synchronization

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

/// Every refresh_token grant answered: the token presented and when, plus per-token and per-base counts.
final class RefreshLog: Sendable {
    struct State {
        var calls: [(time: Double, token: String)] = []
        var byToken: [String: Int] = [:]
        var byBase: [String: Int] = [:]
    }
    let state = Mutex(State())

    /// Records one call and returns the refresh token to issue in its place.
    func record(_ token: String) -> String {
        let now = Date().timeIntervalSince1970
        let base: Substring
        let generation: Int
        if let dot = token.lastIndex(of: "."), let n = Int(token[token.index(after: dot)...]) {
            base = token[..<dot]
            generation = n
        } else {
            base = Substring(token)
            generation = 0
        }
        state.withLock {
            $0.calls.append((now, token))
            $0.byToken[token, default: 0] += 1
            $0.byBase[String(base), default: 0] += 1
        }
        return "\(base).\(generation + 1)"
    }

    func json(withCalls: Bool) -> ByteBuffer {
        state.withLock { s in
            var out = "{"
            out += "\"refreshCalls\":\(s.calls.count),\"distinctTokens\":\(s.byToken.count),\"distinctBases\":\(s.byBase.count),"
            out += "\"sameTokenAgain\":\(s.byToken.values.reduce(0) { $0 + $1 - 1 }),"
            out += "\"basesMoreThanOnce\":\(s.byBase.values.filter { $0 > 1 }.count),"
            out += "\"first\":\(s.calls.first.map { String($0.time) } ?? "null"),\"last\":\(s.calls.last.map { String($0.time) } ?? "null")"
            if withCalls {
                out += ",\"calls\":["
                out += s.calls.map { "[\(String($0.time)),\"\($0.token)\"]" }.joined(separator: ",")
                out += "]"
            }
            out += "}"
            return ByteBuffer(string: out)
        }
    }
}
let refreshLog = RefreshLog()

enum Form {
    /// The value of one field of an application/x-www-form-urlencoded body.
    static func value(_ name: String, in form: String) -> String? {
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}

let router = Router()
router.post("token") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 64 * 1024)
    guard request.headers[.authorization]?.hasPrefix("Basic ") == true else { return Answers.error(.unauthorized, "invalid_client") }
    let form = String(buffer: body)
    guard form.contains("grant_type=") else { return Answers.error(.badRequest, "invalid_request") }
    if Form.value("grant_type", in: form) == "refresh_token" {
        guard let presented = Form.value("refresh_token", in: form), !presented.isEmpty else {
            return Answers.error(.badRequest, "invalid_request")
        }
        let issued = refreshLog.record(presented)
        // Close to the fixed answer in size: an opaque access token, an hour of validity, the rotated refresh token.
        let answer = #"{"access_token":"fake-at-\#(issued)-4fZ0qL7nR2vX9cB1mK8sD3hJ","token_type":"Bearer","expires_in":3600,"refresh_token":"\#(issued)","scope":"read write"}"#
        return Answers.json(.ok, ByteBuffer(string: answer))
    }
    return Answers.json(.ok, Answers.token)
}
router.get("_stats") { request, _ -> Response in
    Answers.json(.ok, refreshLog.json(withCalls: request.uri.queryParameters["calls"] != "0"))
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
