import Foundation
import LatchkeyCore
import Synchronization

/// The sealed credential rows the token path read last, so that a busy caller does not cost two joined reads per
/// request. Not reading is the lever because statements cannot be kept prepared here: sqlite-nio prepares and
/// finalizes every statement (no statement cache, no API to hold one), and SQLKit's PostgreSQL driver does not use
/// PostgresNIO's prepared statements. What it keeps and why that is safe:
///
/// - **Only sealed rows.** An entry is the row as stored: metadata and the encrypted payload, never a decrypted
///   secret. Every use still opens the payload with the keyring (authenticated, bound to the credential's id and
///   tenant), and the plaintext lives only as long as the request that uses it.
/// - **Invalidated by every write of this process.** An entry is tagged with `Database.writeGeneration` read
///   *before* the row was read, and is used only while the generation is unchanged. Every write and transaction
///   of the process bumps it once it has finished (delete, disconnect, refresh, re-key, update, flag, cascades from
///   connections, integrations and tenants: all go through `Database`), so a write that has returned makes every
///   earlier entry unusable, with no list of write paths to keep up to date. Only the audit group commit
///   (`AuditWriter`) does not bump it: it appends audit events and sets `last_used_at`, which no entry is used for.
/// - **Checked against the row on PostgreSQL.** Other instances write the same database, and their writes do not
///   bump this process's generation. There every use first reads the id and `version` of the row the request
///   resolves to (one short indexed read, no payload), and an entry is used only when both match; every change
///   of a row's content bumps its `version` (refresh, update, re-key, flags), a deleted row is not found, and the
///   resolution itself (default credential, shared fallback) is read fresh each time. LISTEN/NOTIFY would save
///   that read but leaves a window after another instance's commit in which a deleted credential's token is still
///   handed out; the version read has none.
/// - **Bounded.** At most `capacity` entries (all dropped when full) and none used older than `lifetime`, which
///   also bounds how long a write made by another process on the same SQLite file (the CLI) goes unseen.
/// - **Degraded mode.** While the database does not answer, an entry read (or, on PostgreSQL, found current) less
///   than the degraded lifetime ago (README, "When the database is unreachable"; at most five minutes) is used
///   instead, still only while no write of this process has ended since. No other instance can write while the
///   database is down; what one wrote between this entry's last check and the outage is not seen until it returns.
final class CredentialCache: Sendable {
    /// What a request resolves: one credential by id, or what a caller's app names (`CredentialVault.Resolution`:
    /// tenant, app, integration, and the credential, connection and end user asked for). The app is part of every
    /// resolution key, so one app's entry is never another app's answer.
    enum Key: Hashable, Sendable {
        case id(tenantID: String, id: String)
        case resolution(CredentialVault.Resolution)
    }

    private struct Entry {
        let stored: StoredCredential
        let generation: UInt64
        /// When the row was read, or (PostgreSQL) last found current by a version read.
        var verified: Date
    }

    private let entries = Mutex<[Key: Entry]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval = 5, capacity: Int = 4096) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The row kept for `key` when it was read at `generation` (the current one) and has not expired; nil otherwise.
    func row(for key: Key, generation: UInt64, now: Date) -> StoredCredential? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.generation == generation else {
                entries[key] = nil
                return nil
            }
            return entry.verified.addingTimeInterval(lifetime) > now ? entry.stored : nil
        }
    }

    /// Degraded mode (the database does not answer): the row kept for `key` when no write of this process has ended
    /// since it was read (`generation`) and it was read or found current less than `maximumAge` ago. Entries are
    /// kept that long for this, though the token path uses them normally for `lifetime` only.
    func degradedRow(for key: Key, generation: UInt64, now: Date, maximumAge: TimeInterval) -> StoredCredential? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.generation == generation, entry.verified.addingTimeInterval(maximumAge) > now else {
                return nil
            }
            return entry.stored
        }
    }

    /// Keeps `stored` for `key`; `generation` must have been read before the row was.
    func store(_ stored: StoredCredential, for key: Key, generation: UInt64, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil { entries.removeAll() }
            entries[key] = Entry(stored: stored, generation: generation, verified: now)
        }
    }

    /// Forgets the entries of credential `id` (a cached payload that did not open).
    func remove(credentialID id: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.stored.credential.id != id } }
    }
}
