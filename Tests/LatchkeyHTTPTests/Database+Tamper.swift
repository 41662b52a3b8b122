import Foundation
import LatchkeyBootstrap
import LatchkeyStorage
import SQLKit

extension Database {
    /// Flips one bit of a stored credential payload, as an attacker with database access might.
    func corruptPayload(ofCredential id: String) async throws {
        let payload = try await read { db in
            try await db.raw("SELECT payload FROM credentials WHERE id = \(bind: id)").first()!.decode(column: "payload", as: Data.self)
        }
        var flipped = payload
        flipped[flipped.startIndex + 20] ^= 0x10
        try await write { db in try await db.raw("UPDATE credentials SET payload = \(bind: flipped) WHERE id = \(bind: id)").run() }
    }
}
