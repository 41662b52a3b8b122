public import Foundation

/// Documents already fetched, keyed by their URL, each kept as long as its `Cache-Control` allows (capped), at most
/// ``capacity`` of them. A value type: ``ClientMetadataDocumentFetcher`` holds it behind a lock and passes the time in.
public struct ClientMetadataDocumentCache: Sendable {
    private struct Entry: Sendable {
        let document: ClientMetadataDocument
        let expires: Date
    }

    /// How many documents are kept at most; when full, expired ones go first, then the one closest to expiring.
    public let capacity: Int
    private var entries: [String: Entry] = [:]

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// How many documents are held, expired ones included until they are pushed out.
    public var count: Int { entries.count }

    /// The document fetched from `url`, when it is still fresh at `now`.
    public func document(for url: String, now: Date) -> ClientMetadataDocument? {
        guard let entry = entries[url], entry.expires > now else { return nil }
        return entry.document
    }

    /// Keeps `document` for `lifetime` seconds from `now`.
    public mutating func store(_ document: ClientMetadataDocument, for url: String, lifetime: TimeInterval, now: Date) {
        guard capacity > 0, lifetime > 0 else { return }
        if entries[url] == nil, entries.count >= capacity {
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity, let soonest = entries.min(by: { $0.value.expires < $1.value.expires })?.key {
                entries[soonest] = nil
            }
        }
        entries[url] = Entry(document: document, expires: now.addingTimeInterval(lifetime))
    }

    /// How long an answer with this `Cache-Control` may be kept: `max-age` capped at `maximum`, `defaultLifetime` when
    /// it says nothing about age, nil (not kept) for `no-store`, `no-cache` or a `max-age` of zero or less.
    public static func lifetime(cacheControl: String?, defaultLifetime: TimeInterval, maximum: TimeInterval) -> TimeInterval? {
        guard let cacheControl else { return min(defaultLifetime, maximum) }
        var maxAge: TimeInterval?
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch parts.first {
            case "no-store", "no-cache": return nil
            case "max-age":
                let value = parts.count == 2 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : ""
                guard let seconds = Int(value) else { return nil }  // a malformed max-age is read as stale (RFC 9111 §4.2.1)
                maxAge = TimeInterval(seconds)
            default: continue
            }
        }
        guard let maxAge else { return min(defaultLifetime, maximum) }
        return maxAge > 0 ? min(maxAge, maximum) : nil
    }
}
