public import Crypto
import Foundation

/// Crypto-shredding of the people in audit events. The identifiers of a person an event carries — a `user:` actor
/// with its address and user agent, a target that is the person's id, and the personal `details` (email, end user,
/// provider subject) — are sealed (AES-256-GCM) under that person's own audit key before the event joins the chain,
/// so the chain hashes the sealed text and stays verifiable once erasure has destroyed the key. Reading opens the
/// sealed fields while the key exists and shows `AuditSeal.erased` after.
public enum AuditSeal {
    /// What a sealed field reads once its person's key was destroyed by an erasure.
    public static let erased = "erased"
    /// What a sealed field reads when its key exists but cannot be unwrapped (a damaged row).
    public static let unreadable = "unreadable"

    /// Every sealed field starts so: `sealed:v1:<key id>:<base64url of nonce, ciphertext and tag>`.
    static let prefix = "sealed:v1:"

    /// The `details` entries whose value identifies a person.
    public static let personalDetails: Set<String> = [
        "email", "end_user", "end_user_id", "owner", "subject", "display_name", "external_id", "user_id",
    ]

    /// Actors that are a browser acting for the record's person before they are signed in: its address and user
    /// agent are the person's.
    static let browserActors: Set<String> = ["login", "setup"]

    /// A person's audit key, as a writer holds it.
    public struct PersonKey: Sendable {
        public var id: String
        public var key: SymmetricKey

        public init(id: String, key: SymmetricKey) {
            self.id = id
            self.key = key
        }
    }

    /// The people whose identifiers `record` carries: the console user who acted, and the person it is about.
    public static func persons(in record: AuditRecord) -> [String] {
        var persons: [String] = []
        if let actor = actorPerson(record.actor) { persons.append(actor) }
        if let person = record.person, !person.isEmpty, !persons.contains(person) { persons.append(person) }
        return persons
    }

    /// The console user an actor names (`user:<id>`).
    static func actorPerson(_ actor: String) -> String? {
        guard actor.hasPrefix("user:"), actor.count > 5 else { return nil }
        return String(actor.dropFirst(5))
    }

    /// `record` with each person's identifiers sealed under their key (`keys` by person id). A person without a key
    /// in `keys` keeps theirs in clear.
    public static func seal(_ record: AuditRecord, tenantID: String, keys: [String: PersonKey]) throws -> AuditRecord {
        let actor = actorPerson(record.actor)
        let subject = record.person ?? actor
        // The address and user agent are whoever's browser acted.
        let browser = actor ?? (browserActors.contains(record.actor) ? record.person : nil)
        func sealed(_ value: String?, by person: String?, field: String) throws -> String? {
            guard let value, !value.isEmpty, let person, let key = keys[person] else { return value }
            return try seal(value, key: key, tenantID: tenantID, field: field)
        }
        var out = record
        out.actor = try sealed(record.actor, by: actor, field: "actor") ?? record.actor
        out.ip = try sealed(record.ip, by: browser, field: "ip")
        out.userAgent = try sealed(record.userAgent, by: browser, field: "user_agent")
        if let target = record.target, target == record.person || target == actor {
            out.target = try sealed(target, by: target, field: "target")
        }
        for (name, value) in record.details where personalDetails.contains(name) && value != "shared" {
            out.details[name] = try sealed(value, by: subject, field: "details." + name)
        }
        return out
    }

    /// The ids of the keys `event`'s sealed fields were sealed under.
    public static func keyIDs(in event: AuditEvent) -> Set<String> {
        var ids: Set<String> = []
        for value in [event.actor, event.target, event.ip, event.userAgent] + event.details.values.map(Optional.some) {
            if let value, let id = keyID(of: value) { ids.insert(id) }
        }
        return ids
    }

    /// What a reader knows of a key: its material, or that it is gone.
    public enum KeyState: Sendable {
        case key(SymmetricKey)
        case erased
        case unreadable
    }

    /// `event` with its sealed fields opened; a field whose key is erased (or missing from `keys`) reads `erased`.
    /// The hash stays the one of the sealed event (verification reads the events as stored).
    public static func open(_ event: AuditEvent, keys: [String: KeyState]) -> AuditEvent {
        func opened(_ value: String?, field: String) -> String? {
            guard let value, let id = keyID(of: value) else { return value }
            switch keys[id] ?? .erased {
            case .erased: return erased
            case .unreadable: return unreadable
            case .key(let key): return open(value, key: key, tenantID: event.tenantID, field: field) ?? unreadable
            }
        }
        var out = event
        out.actor = opened(event.actor, field: "actor") ?? event.actor
        out.target = opened(event.target, field: "target")
        out.ip = opened(event.ip, field: "ip")
        out.userAgent = opened(event.userAgent, field: "user_agent")
        for (name, value) in event.details where value.hasPrefix(prefix) {
            out.details[name] = opened(value, field: "details." + name)
        }
        return out
    }

    /// Whether `value` is a sealed field.
    public static func isSealed(_ value: String?) -> Bool { value.map { keyID(of: $0) != nil } ?? false }

    static func keyID(of value: String) -> String? {
        guard value.hasPrefix(prefix) else { return nil }
        let rest = value.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":"), colon > rest.startIndex else { return nil }
        return String(rest[..<colon])
    }

    static func seal(_ value: String, key: PersonKey, tenantID: String, field: String) throws -> String {
        let box = try AES.GCM.seal(Data(value.utf8), using: key.key, nonce: AES.GCM.Nonce(), authenticating: aad(tenantID: tenantID, field: field))
        // A 12-byte nonce always yields a combined representation.
        return prefix + key.id + ":" + box.combined!.base64URLEncodedString()
    }

    static func open(_ value: String, key: SymmetricKey, tenantID: String, field: String) -> String? {
        guard let colon = value.lastIndex(of: ":"), let data = decode(value[value.index(after: colon)...]),
            let box = try? AES.GCM.SealedBox(combined: data),
            let plain = try? AES.GCM.open(box, using: key, authenticating: aad(tenantID: tenantID, field: field))
        else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// Binds a sealed field to its tenant and to the field it was written in.
    static func aad(tenantID: String, field: String) -> Data {
        Data("latchkey-audit-seal-v1|\(tenantID)|\(field)".utf8)
    }
}
