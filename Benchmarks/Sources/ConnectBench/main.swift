// The Connect benchmark's load driver. It signs console users in once each, then, for each concurrency level, runs
// fixed-time phases with one worker per signed-in session and reports operations/s with p50/p99 latency:
//
//   start     POST /connections/{integration}/connect   authorization URL built, connect-session row written
//   callback  GET /connect/callback?code=…&state=…       state claimed once, code exchanged at the provider's token
//                                                         endpoint, user-info read, credential stored, audited
//   token     POST {fake}/token, sent by this driver      the fake provider's own token response time
//   userinfo  GET {fake}/userinfo, sent by this driver    the fake provider's own user-info response time
//
// The states the callback phase consumes are made by connect starts before that phase's clock starts, so the phase
// measures callbacks alone. Every request goes through one AsyncHTTPClient with keep-alive connections, the same for
// Latchkey and for the fake provider; a latency is from sending the request to having read the whole answer. Any
// unexpected answer stops the run with an error: a figure only counts if every request in it succeeded.
//
//     ConnectBench --latchkey URL --fake URL --emails a@x,b@x,… [--integration KEY] [--concurrency 1,8]
//                  [--duration SECONDS] [--warmup SECONDS] [--rounds N]
//
// The users' password is read from the BENCH_PASSWORD environment variable. Progress goes to standard error; the
// results, as Markdown tables, to standard output.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

// MARK: Options

struct Options: Sendable {
    var latchkey = ""
    var fake = ""
    var integration = "bench"
    var emails: [String] = []
    var password = ""
    var concurrency = [1, 8]
    var duration = 10.0
    var warmup = 3.0
    var rounds = 1
    var clientID = "c"
    var clientSecret = "s"
}

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data("ConnectBench: \(text)\n".utf8))
    exit(1)
}

func progress(_ text: String) {
    FileHandle.standardError.write(Data("    \(text)\n".utf8))
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = Array(CommandLine.arguments.dropFirst())
    func value(_ flag: String) -> String {
        guard !arguments.isEmpty else { fail("\(flag) needs a value") }
        return arguments.removeFirst()
    }
    while !arguments.isEmpty {
        let flag = arguments.removeFirst()
        switch flag {
        case "--latchkey": options.latchkey = value(flag)
        case "--fake": options.fake = value(flag)
        case "--integration": options.integration = value(flag)
        case "--emails": options.emails = value(flag).split(separator: ",").map(String.init)
        case "--concurrency":
            let levels = value(flag).split(separator: ",").compactMap { Int($0) }
            guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 }) else { fail("--concurrency takes positive numbers, e.g. 1,8") }
            options.concurrency = levels
        case "--duration":
            guard let seconds = Double(value(flag)), seconds > 0 else { fail("--duration takes seconds") }
            options.duration = seconds
        case "--warmup":
            guard let seconds = Double(value(flag)), seconds >= 0 else { fail("--warmup takes seconds") }
            options.warmup = seconds
        case "--rounds":
            guard let rounds = Int(value(flag)), rounds > 0 else { fail("--rounds takes a positive number") }
            options.rounds = rounds
        case "--client-id": options.clientID = value(flag)
        case "--client-secret": options.clientSecret = value(flag)
        default: fail("unknown argument \(flag)")
        }
    }
    options.password = ProcessInfo.processInfo.environment["BENCH_PASSWORD"] ?? ""
    guard !options.latchkey.isEmpty, !options.fake.isEmpty else { fail("--latchkey and --fake are required") }
    guard !options.password.isEmpty else { fail("set BENCH_PASSWORD to the users' password") }
    guard options.emails.count >= options.concurrency.max()! else {
        fail("--emails names \(options.emails.count) users; the highest concurrency needs one per worker")
    }
    return options
}

// MARK: HTTP

struct Reply: Sendable {
    var status: UInt
    var headers: HTTPHeaders
    var body: ByteBuffer

    var text: String { String(buffer: body) }

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// The `name=value` pairs of the Set-Cookie headers.
    var cookies: [String: String] {
        var out: [String: String] = [:]
        for line in headers["Set-Cookie"] {
            let pair = line.split(separator: ";", maxSplits: 1).first ?? ""
            guard let equals = pair.firstIndex(of: "=") else { continue }
            out[String(pair[..<equals]).trimmingCharacters(in: .whitespaces)] = String(pair[pair.index(after: equals)...])
        }
        return out
    }

    func describe() -> String {
        "\(status) \(String(text.prefix(300)).replacingOccurrences(of: "\n", with: " "))"
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `application/x-www-form-urlencoded` and query values: everything but the unreserved characters is escaped.
func formEncode(_ value: String) -> String {
    var out = ""
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out += String(format: "%%%02X", byte)
        }
    }
    return out
}

func form(_ fields: [(String, String)]) -> String {
    fields.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
}

/// The value of the first hidden `csrf_token` field of a page.
func csrfToken(in page: String) -> String? {
    guard let start = page.range(of: #"name="csrf_token" value=""#) else { return nil }
    guard let end = page[start.upperBound...].firstIndex(of: "\"") else { return nil }
    let token = String(page[start.upperBound..<end])
    return token.isEmpty ? nil : token
}

func randomToken(_ count: Int) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return String((0..<count).map { _ in alphabet.randomElement()! })
}

/// One signed-in console user: its two cookies and the CSRF token of its session.
struct Session: Sendable {
    var email: String
    var browser: String
    var session: String
    var csrf: String
    var cookieHeader: String { "latchkey_browser=\(browser); latchkey_session=\(session)" }
}

struct Driver: Sendable {
    let client: HTTPClient
    let options: Options

    func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], form body: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 8 << 20)
        return Reply(status: response.status.code, headers: response.headers, body: data)
    }

    // Sign-in: once per worker (bcrypt), before any measured phase.
    func signIn(email: String) async throws -> Session {
        let base = options.latchkey
        let loginPage = try await send(.GET, "\(base)/login")
        guard loginPage.status == 200, let browser = loginPage.cookies["latchkey_browser"], let loginCSRF = csrfToken(in: loginPage.text) else {
            throw BenchError("GET /login answered \(loginPage.describe())")
        }
        let signedIn = try await send(
            .POST,
            "\(base)/login",
            headers: [("Cookie", "latchkey_browser=\(browser)")],
            form: form([("email", email), ("password", options.password), ("csrf_token", loginCSRF), ("next", "/connections")])
        )
        guard signedIn.status == 303, let session = signedIn.cookies["latchkey_session"], !session.isEmpty else {
            throw BenchError("POST /login as \(email) answered \(signedIn.describe())")
        }
        var current = Session(email: email, browser: browser, session: session, csrf: "")
        let center = try await send(.GET, "\(base)/connections", headers: [("Cookie", current.cookieHeader)])
        guard center.status == 200, let csrf = csrfToken(in: center.text) else {
            throw BenchError("GET /connections answered \(center.describe())")
        }
        guard center.text.contains("/connections/\(options.integration)/connect") else {
            throw BenchError("GET /connections offers no '\(options.integration)' integration to connect")
        }
        current.csrf = csrf
        return current
    }

    /// Connect start: returns the OAuth `state` of the authorization URL Latchkey redirected to.
    func start(_ session: Session) async throws -> String {
        let reply = try await send(
            .POST,
            "\(options.latchkey)/connections/\(options.integration)/connect",
            headers: [("Cookie", session.cookieHeader)],
            form: form([("csrf_token", session.csrf)])
        )
        guard reply.status == 303, let location = reply.header("Location"), location.hasPrefix(options.fake + "/authorize?"),
            let items = URLComponents(string: location)?.queryItems,
            let state = items.first(where: { $0.name == "state" })?.value, !state.isEmpty,
            items.contains(where: { $0.name == "code_challenge" })
        else {
            throw BenchError("POST /connections/\(options.integration)/connect answered \(reply.describe()) Location: \(reply.header("Location") ?? "none")")
        }
        return state
    }

    /// The provider's redirect back; true when the credential was new, false when it was updated in place.
    @discardableResult
    func callback(_ session: Session, state: String) async throws -> Bool {
        let url = "\(options.latchkey)/connect/callback?code=\(formEncode("fake-code-" + randomToken(24)))&state=\(formEncode(state))"
        let reply = try await send(.GET, url, headers: [("Cookie", session.cookieHeader)])
        guard reply.status == 303, let location = reply.header("Location") else {
            throw BenchError("GET /connect/callback answered \(reply.describe())")
        }
        if location.hasPrefix("/connections?connected=") { return true }
        if location.hasPrefix("/connections?reconnected=") { return false }
        throw BenchError("GET /connect/callback redirected to \(location)")
    }

    /// The same token request Latchkey makes on a callback, sent straight to the fake provider.
    func token() async throws {
        let credentials = Data("\(formEncode(options.clientID)):\(formEncode(options.clientSecret))".utf8).base64EncodedString()
        let body = form([
            ("grant_type", "authorization_code"),
            ("code", "fake-code-" + randomToken(24)),
            ("redirect_uri", "\(options.latchkey)/connect/callback"),
            ("code_verifier", randomToken(43)),
        ])
        let reply = try await send(
            .POST,
            "\(options.fake)/token",
            headers: [("Authorization", "Basic \(credentials)"), ("Accept", "application/json")],
            form: body
        )
        guard reply.status == 200, reply.text.contains("\"access_token\"") else { throw BenchError("POST /token answered \(reply.describe())") }
    }

    func userInfo() async throws {
        let reply = try await send(
            .GET,
            "\(options.fake)/userinfo",
            headers: [("Authorization", "Bearer fake-at-4fZ0qL7nR2vX9cB1mK8sD3hJ6wT5yP0e"), ("Accept", "application/json")]
        )
        guard reply.status == 200, reply.text.contains("\"sub\"") else { throw BenchError("GET /userinfo answered \(reply.describe())") }
    }
}

// MARK: Measuring

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// One phase at one concurrency: every latency, and the wall time from the common start to the last answer.
struct Phase: Sendable {
    var latencies: [Double]
    var elapsed: Double
    var ranDry = 0

    var opsPerSecond: Double { Double(latencies.count) / (elapsed / 1e9) }
    var mean: Double { latencies.reduce(0, +) / Double(max(1, latencies.count)) }

    func percentile(_ fraction: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let sorted = latencies.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Runs `body` once per worker, all at once; each worker loops until the deadline and returns its latencies, and
/// whether it ran out of work before the deadline.
func phase(
    workers: Int,
    seconds: Double,
    _ body: @escaping @Sendable (_ worker: Int, _ deadline: ContinuousClock.Instant) async throws -> (latencies: [Double], ranDry: Bool)
) async throws -> Phase {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .nanoseconds(Int64(seconds * 1e9))
    return try await withThrowingTaskGroup(of: (latencies: [Double], ranDry: Bool).self) { group in
        for worker in 0..<workers {
            group.addTask { try await body(worker, deadline) }
        }
        var result = Phase(latencies: [], elapsed: 0)
        for try await outcome in group {
            result.latencies += outcome.latencies
            if outcome.ranDry { result.ranDry += 1 }
        }
        result.elapsed = nanoseconds(start.duration(to: clock.now))
        return result
    }
}

/// Loops one operation until the deadline, timing each call.
func timedLoop(until deadline: ContinuousClock.Instant, _ operation: () async throws -> Void) async throws -> (latencies: [Double], ranDry: Bool) {
    let clock = ContinuousClock()
    var latencies: [Double] = []
    latencies.reserveCapacity(16_384)
    while clock.now < deadline {
        let before = clock.now
        try await operation()
        latencies.append(nanoseconds(before.duration(to: clock.now)))
    }
    return (latencies, false)
}

enum Operation: String, CaseIterable, Sendable {
    case start, callback, token, userinfo
}

struct Figures: Sendable {
    var opsPerSecond: Double
    var p50: Double
    var p99: Double
    var count: Int
}

// MARK: Run

actor Counters {
    var created = 0
    var updated = 0
    func add(created: Int, updated: Int) {
        self.created += created
        self.updated += updated
    }
}

struct Outcome: Sendable {
    var results: [Int: [Operation: [Figures]]] = [:]
    var created = 0
    var updated = 0
    var ranDry = 0
}

func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func measure(driver: Driver, options: Options) async throws -> Outcome {
    var outcome = Outcome()
    let maxWorkers = options.concurrency.max()!
    progress("signing in \(maxWorkers) users (bcrypt, once each)")
    var sessions: [Session] = []
    for email in options.emails.prefix(maxWorkers) {
        sessions.append(try await driver.signIn(email: email))
    }
    let signedIn = sessions

    for round in 1...options.rounds {
        for workers in options.concurrency {
            progress("round \(round)/\(options.rounds), \(workers) worker(s): warm-up \(options.warmup)s (start, callback, token, userinfo in turn)")
            let warm = try await phase(workers: workers, seconds: options.warmup) { worker, deadline in
                let clock = ContinuousClock()
                var callbackLatencies: [Double] = []
                repeat {
                    let state = try await driver.start(signedIn[worker])
                    let before = clock.now
                    try await driver.callback(signedIn[worker], state: state)
                    callbackLatencies.append(nanoseconds(before.duration(to: clock.now)))
                    try await driver.token()
                    try await driver.userInfo()
                } while clock.now < deadline
                return (callbackLatencies, false)
            }

            progress("start: \(options.duration)s")
            let start = try await phase(workers: workers, seconds: options.duration) { worker, deadline in
                try await timedLoop(until: deadline) { _ = try await driver.start(signedIn[worker]) }
            }

            // Enough states for twice the callbacks the warm-up's pace predicts, made before the clock starts.
            let perWorker = Int((options.duration * 1e9 / max(warm.mean, 1)) * 2) + 50
            progress("callback: making \(perWorker) state(s) per worker first, untimed")
            let pools = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var states: [String] = []
                        states.reserveCapacity(perWorker)
                        for _ in 0..<perWorker { states.append(try await driver.start(signedIn[worker])) }
                        return (worker, states)
                    }
                }
                var pools = [[String]](repeating: [], count: workers)
                for try await (worker, states) in group { pools[worker] = states }
                return pools
            }
            progress("callback: \(options.duration)s")
            let counters = Counters()
            let callback = try await phase(workers: workers, seconds: options.duration) { worker, deadline in
                let clock = ContinuousClock()
                var latencies: [Double] = []
                latencies.reserveCapacity(pools[worker].count)
                var fresh = 0
                for state in pools[worker] {
                    guard clock.now < deadline else { break }
                    let before = clock.now
                    if try await driver.callback(signedIn[worker], state: state) { fresh += 1 }
                    latencies.append(nanoseconds(before.duration(to: clock.now)))
                }
                await counters.add(created: fresh, updated: latencies.count - fresh)
                return (latencies, latencies.count == pools[worker].count && clock.now < deadline)
            }
            outcome.created += await counters.created
            outcome.updated += await counters.updated
            outcome.ranDry += callback.ranDry
            if callback.ranDry > 0 { progress("warning: \(callback.ranDry) worker(s) used up their states before the deadline") }

            progress("fake provider POST /token, direct: \(options.duration)s")
            let token = try await phase(workers: workers, seconds: options.duration) { _, deadline in
                try await timedLoop(until: deadline) { try await driver.token() }
            }
            progress("fake provider GET /userinfo, direct: \(options.duration)s")
            let userinfo = try await phase(workers: workers, seconds: options.duration) { _, deadline in
                try await timedLoop(until: deadline) { try await driver.userInfo() }
            }

            for (operation, measured) in [(Operation.start, start), (.callback, callback), (.token, token), (.userinfo, userinfo)] {
                let figures = Figures(
                    opsPerSecond: measured.opsPerSecond,
                    p50: measured.percentile(0.50) / 1e6,
                    p99: measured.percentile(0.99) / 1e6,
                    count: measured.latencies.count
                )
                outcome.results[workers, default: [:]][operation, default: []].append(figures)
                progress(
                    padded(operation.rawValue, 9)
                        + String(format: " %8.1f ops/s  p50 %7.3f ms  p99 %7.3f ms  (%d ops)", figures.opsPerSecond, figures.p50, figures.p99, figures.count)
                )
            }
        }
    }
    return outcome
}

let options = parseOptions()
var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: max(16, options.concurrency.max()! * 2))
configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
let outcome: Outcome
do {
    outcome = try await measure(driver: Driver(client: client, options: options), options: options)
} catch {
    try? await client.shutdown().get()
    fail("\(error)")
}
try await client.shutdown().get()
let results = outcome.results

// MARK: Report

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func combined(_ rounds: [Figures]) -> Figures {
    Figures(
        opsPerSecond: median(rounds.map(\.opsPerSecond)),
        p50: median(rounds.map(\.p50)),
        p99: median(rounds.map(\.p99)),
        count: rounds.map(\.count).reduce(0, +)
    )
}

func number(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
func ms(_ value: Double) -> String { String(format: value < 1 ? "%.3f" : "%.2f", value) }
func ratio(_ value: Double) -> String { String(format: value < 10 ? "%.2f" : "%.1f", value) }

let names: [Operation: String] = [
    .start: "(a) Connect start: `POST /connections/\(options.integration)/connect`",
    .callback: "(b) Callback: `GET /connect/callback` (exchange, user-info, store)",
    .token: "(c) Fake provider `POST /token`, direct",
    .userinfo: "(d) Fake provider `GET /userinfo`, direct",
]

print("| Operation | Workers | ops/s | p50 ms | p99 ms | requests, all rounds |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for workers in options.concurrency {
    for operation in Operation.allCases {
        let figures = combined(results[workers]?[operation] ?? [])
        print("| \(names[operation]!) | \(workers) | \(number(figures.opsPerSecond, 1)) | \(ms(figures.p50)) | \(ms(figures.p99)) | \(figures.count) |")
    }
}
print()
print("| Workers | (b) ÷ (c), p50 | (b) ÷ ((c) + (d)), p50 | (b) ÷ (c), p99 | (a) ops/s ÷ (b) ops/s |")
print("| ---: | ---: | ---: | ---: | ---: |")
for workers in options.concurrency {
    let start = combined(results[workers]?[.start] ?? [])
    let callback = combined(results[workers]?[.callback] ?? [])
    let token = combined(results[workers]?[.token] ?? [])
    let userinfo = combined(results[workers]?[.userinfo] ?? [])
    print(
        "| \(workers) | \(ratio(callback.p50 / token.p50)) | \(ratio(callback.p50 / (token.p50 + userinfo.p50))) | \(ratio(callback.p99 / token.p99)) | \(ratio(start.opsPerSecond / callback.opsPerSecond)) |"
    )
}
print()
print("CALLBACKS_CREATED=\(outcome.created) CALLBACKS_UPDATED=\(outcome.updated) RAN_DRY=\(outcome.ranDry)")
