import LatchkeyCore
import Synchronization

/// The audit fingerprints of the access tokens the token path handed out last, by credential id and row version,
/// so that a busy caller does not cost an HMAC per call. A fingerprint is what audit events already carry (never
/// the token); a row's `version` changes with every change of its content, so a new token gets a new entry.
final class FingerprintMemo: Sendable {
    private struct Entry {
        let version: Int
        let fingerprint: String
    }

    private let entries = Mutex<[String: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The fingerprint of `credential`'s token at its version, made with `make` when not kept.
    func fingerprint(of credential: Credential, make: () -> String) -> String {
        if let kept = entries.withLock({ $0[credential.id] }), kept.version == credential.version { return kept.fingerprint }
        let fingerprint = make()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[credential.id] = Entry(version: credential.version, fingerprint: fingerprint)
        }
        return fingerprint
    }
}
