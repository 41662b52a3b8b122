import Benchmark
import Crypto
import Foundation
import LatchkeyCore

// The vault's envelope encryption (Keyring: versioned data key, context-bound authenticated data, header) against
// raw AES-256-GCM on the same bytes: the physical floor. Each benchmark iteration runs 1,000 seal+open pairs;
// the figures the tool prints are per pair.

/// 2 KiB of plaintext, the size of a typical OAuth token set.
let payloadSize = 2048

/// A CredentialSecret whose JSON encoding is exactly `payloadSize` bytes, so the vault path and the raw
/// baseline move the same amount of data through AES-GCM.
func sampleSecret() -> CredentialSecret {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    func token(_ count: Int) -> String { String((0..<count).map { _ in alphabet.randomElement()! }) }
    let refresh = token(400)
    let skeleton = CredentialSecret(accessToken: "", refreshToken: refresh, tokenType: "Bearer")
    let overhead = try! JSONEncoder().encode(skeleton).count
    let secret = CredentialSecret(accessToken: token(payloadSize - overhead), refreshToken: refresh, tokenType: "Bearer")
    precondition(try! JSONEncoder().encode(secret).count == payloadSize)
    return secret
}

func makeKeyring() throws -> Keyring {
    let master = MasterKey.generate()
    let now = Date()
    let keys = [
        try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: 1, master: master, createdAt: now),
        try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .hmac, version: 1, master: master, createdAt: now),
    ]
    return try Keyring(master: master, keys: keys, activeVersion: 1)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 10_000
    )

    let keyring = try! makeKeyring()
    let context = EncryptionContext(
        tenantID: "0191f3a2-7c1e-7d4a-9b1e-2f6c1d9e4a01",
        ownerID: "0191f3a2-7c1e-7d4a-9b1e-2f6c1d9e4a02",
        recordID: "0191f3a2-7c1e-7d4a-9b1e-2f6c1d9e4a03",
        field: "credentials.payload"
    )
    let payload = Data((0..<payloadSize).map { _ in UInt8.random(in: 0...255) })
    let rawKey = SymmetricKey(size: .bits256)
    let secret = sampleSecret()

    // (a) Ours: Keyring.seal + Keyring.open with an EncryptionContext.
    Benchmark("Keyring seal+open 2 KiB") { benchmark in
        for _ in benchmark.scaledIterations {
            let sealed = try keyring.seal(payload, context: context)
            blackHole(try keyring.open(sealed, context: context))
        }
    }

    // (b) Baseline: raw AES.GCM.seal + AES.GCM.open of the same 2 KiB with a random nonce.
    Benchmark("Raw AES.GCM seal+open 2 KiB (baseline)") { benchmark in
        for _ in benchmark.scaledIterations {
            let box = try AES.GCM.seal(payload, using: rawKey, nonce: AES.GCM.Nonce())
            blackHole(try AES.GCM.open(box, using: rawKey))
        }
    }

    // (c) The vault's real path: CredentialSecret → JSON → seal → open → JSON → CredentialSecret.
    Benchmark("CredentialSecret JSON encode+seal+open+decode 2 KiB") { benchmark in
        for _ in benchmark.scaledIterations {
            let plaintext = try JSONEncoder().encode(secret)
            let sealed = try keyring.seal(plaintext, context: context)
            let opened = try keyring.open(sealed, context: context)
            blackHole(try JSONDecoder().decode(CredentialSecret.self, from: opened))
        }
    }
}
