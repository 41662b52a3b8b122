// The token route's own ceiling on the chosen stack: the least a durable, audited hand-out can do on Hummingbird,
// SQLite (through SQLiteNIO, as Latchkey reaches it) and swift-crypto, with none of Latchkey's other work.
//
//     BareToken PORT DATA_DIRECTORY
//
// POST /token with `Authorization: Bearer KEY` and a JSON body `{"integration": …, "externalUserId": …}`:
// checks the key (its SHA-256 against the one held in memory), opens the credential's 2 KiB secret (AES-GCM, held
// sealed in memory: a perfect cache, no read), decodes it, appends one audit row and answers once that row is
// committed (group commit: one multi-row INSERT per batch, WAL, synchronous=NORMAL, as Latchkey writes), then answers
// the token as JSON. No middleware, no tenant, no request log, no triggers, no rate limit. Listens on 127.0.0.1 only.
// Prints LISTENING=PORT and KEY=… on standard output.
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

struct TokenRequest: Decodable {
    let integration: String
    let externalUserId: String?
}

struct Secret: Codable {
    let accessToken: String
    let refreshToken: String
    let tokenType: String
    let extra: String
}

struct TokenAnswer: ResponseEncodable {
    let accessToken: String
    let credentialId: String
    let integration: String
    let tokenType: String
    let type: String
}

/// One drain at a time writes every queued row in one statement; each caller resumes once its row is committed.
final class AuditBatcher: Sendable {
    struct Item {
        let action: String
        let target: String
        let details: String
        let continuation: CheckedContinuation<Void, any Error>
    }

    struct Queue: ~Copyable {
        var pending: [Item] = []
        var draining = false
    }

    let connection: SQLiteConnection
    let queue = Mutex(Queue())

    init(connection: SQLiteConnection) { self.connection = connection }

    func append(action: String, target: String, details: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = queue.withLock { queue -> Bool in
                queue.pending.append(Item(action: action, target: target, details: details, continuation: continuation))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    func drain() async {
        while true {
            let batch = queue.withLock { queue -> [Item] in
                let batch = Array(queue.pending.prefix(200))
                queue.pending.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let now = Date().timeIntervalSince1970
            let placeholders = Array(repeating: "(?, ?, ?, ?)", count: batch.count).joined(separator: ", ")
            var binds: [SQLiteData] = []
            binds.reserveCapacity(batch.count * 4)
            for item in batch {
                binds.append(.text(item.action))
                binds.append(.text(item.target))
                binds.append(.text(item.details))
                binds.append(.float(now))
            }
            do {
                let _: [SQLiteRow] = try await connection.query("INSERT INTO audit (action, target, details, at) VALUES \(placeholders)", binds)
                for item in batch { item.continuation.resume() }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2, let port = Int(arguments[0]), (0...65535).contains(port) else {
    FileHandle.standardError.write(Data("usage: BareToken PORT DATA_DIRECTORY\n".utf8))
    exit(64)
}
try FileManager.default.createDirectory(atPath: arguments[1], withIntermediateDirectories: true)

var logger = Logger(label: "bare-token")
logger.logLevel = .warning

let connection: SQLiteConnection = try await SQLiteConnection.open(storage: .file(path: arguments[1] + "/bare.sqlite"), logger: logger)
for statement in [
    "PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
    "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, action TEXT NOT NULL, target TEXT NOT NULL, details TEXT NOT NULL, at REAL NOT NULL)",
] {
    let _: [SQLiteRow] = try await connection.query(statement)
}
let batcher = AuditBatcher(connection: connection)

let key = "bk_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
let keyDigest = Data(SHA256.hash(data: Data(key.utf8)))
let credentialID = UUID().uuidString.lowercased()
let sealingKey = SymmetricKey(size: .bits256)
let secret = Secret(
    accessToken: "gho_" + String(repeating: "a", count: 36),
    refreshToken: "ghr_" + String(repeating: "b", count: 76),
    tokenType: "bearer",
    extra: String(repeating: "x", count: 1_800)
)
let sealedSecret = try AES.GCM.seal(JSONEncoder().encode(secret), using: sealingKey).combined!

let router = Router()
router.post("token") { request, context -> TokenAnswer in
    guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
        Data(SHA256.hash(data: Data(authorization.utf8.dropFirst(7)))) == keyDigest
    else { throw HTTPError(.unauthorized) }
    let body = try await request.decode(as: TokenRequest.self, context: context)
    let opened = try AES.GCM.open(AES.GCM.SealedBox(combined: sealedSecret), using: sealingKey)
    let token = try JSONDecoder().decode(Secret.self, from: opened)
    try await batcher.append(
        action: "credential.token",
        target: credentialID,
        details: "{\"integration\":\"\(body.integration)\",\"externalUserId\":\"\(body.externalUserId ?? "")\"}"
    )
    return TokenAnswer(
        accessToken: token.accessToken,
        credentialId: credentialID,
        integration: body.integration,
        tokenType: token.tokenType,
        type: "oauth2"
    )
}
router.get("json") { _, _ in TokenAnswer(accessToken: "-", credentialId: "-", integration: "-", tokenType: "-", type: "-") }

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    onServerRunning: { channel in
        let actual = channel.localAddress?.port ?? port
        FileHandle.standardOutput.write(Data("LISTENING=\(actual)\nKEY=\(key)\n".utf8))
    },
    logger: logger
)
try await app.runService()
