public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient

/// The signing keys providers publish (JWKS), fetched through the outbound transport and kept in memory.
///
/// A key set is read once and kept for ``maxAge``. A token whose `kid` is not in the kept set makes the set be read
/// again, at most once per ``refetchInterval`` per URL, so that a provider's key rotation works while a stream of
/// tokens with made-up `kid`s cannot make Latchkey call the provider for each of them. The new set replaces the old
/// one: a key the provider removed is no longer accepted.
public actor JWKSCache {
    /// One key of a set, as published (`kty`, `kid`, `alg`, and the public parameters).
    public struct Key: Sendable, Equatable {
        public var keyType: String
        public var keyID: String?
        public var algorithm: String?
        /// The key as JSON, for the JWT library.
        public var json: String
    }

    private struct Entry {
        var keys: [Key]
        var fetchedAt: Date
    }

    private let transport: any HTTPTransport
    private let clock: any LatchkeyClock
    /// How long a key set is used before it is read again.
    public let maxAge: TimeInterval
    /// The shortest time between two reads of the same set.
    public let refetchInterval: TimeInterval
    private var entries: [URL: Entry] = [:]
    private var lastRead: [URL: Date] = [:]
    private var discovered: [URL: (location: KeySetLocation, fetchedAt: Date)] = [:]

    /// The issuer and key-set URL an OpenID Connect discovery document names.
    public struct KeySetLocation: Sendable, Equatable {
        public var issuer: String
        public var keySetURL: URL
    }

    /// A cache over `transport` (the transport under the outbound policy); times from `clock`.
    public init(transport: any HTTPTransport, clock: any LatchkeyClock, maxAge: TimeInterval = 3600, refetchInterval: TimeInterval = 60) {
        self.transport = transport
        self.clock = clock
        self.maxAge = maxAge
        self.refetchInterval = refetchInterval
    }

    /// The key of the set at `url` for `keyID`: from the kept set, else (unknown `kid`, or none kept) read again when
    /// allowed. With no `keyID`, the set's only key of `keyType`. Nil when there is no such key.
    public func key(url: URL, keyID: String?, keyType: String) async throws(IDTokenError) -> Key? {
        let now = clock.now
        if let entry = entries[url], now.timeIntervalSince(entry.fetchedAt) < maxAge {
            if let found = Self.pick(entry.keys, keyID: keyID, keyType: keyType) { return found }
        }
        if let last = lastRead[url], now.timeIntervalSince(last) < refetchInterval {
            // Read very recently: answer from what was read (or nothing, when that read failed).
            return entries[url].flatMap { Self.pick($0.keys, keyID: keyID, keyType: keyType) }
        }
        lastRead[url] = now
        let keys = try await fetch(url)
        entries[url] = Entry(keys: keys, fetchedAt: now)
        return Self.pick(keys, keyID: keyID, keyType: keyType)
    }

    /// The issuer and `jwks_uri` of the discovery document at `discoveryURL`, kept for ``maxAge``. The issuer must be
    /// the discovery URL without `/.well-known/openid-configuration` (OpenID Connect Discovery §4.3).
    public func location(discoveryURL: URL) async throws(IDTokenError) -> KeySetLocation {
        let now = clock.now
        if let kept = discovered[discoveryURL], now.timeIntervalSince(kept.fetchedAt) < maxAge { return kept.location }
        let host = discoveryURL.host ?? "the provider"
        let object = try await json(discoveryURL)
        guard let issuer = object["issuer"] as? String, !issuer.isEmpty else { throw .keySetUnavailable("\(host) names no issuer") }
        let suffix = "/.well-known/openid-configuration"
        let text = discoveryURL.absoluteString
        if text.hasSuffix(suffix), Self.trimmed(String(text.dropLast(suffix.count))) != Self.trimmed(issuer) {
            throw .keySetUnavailable("the discovery document of \(host) names another issuer")
        }
        guard let keys = object["jwks_uri"] as? String, let url = URL(string: keys), ["https", "http"].contains(url.scheme?.lowercased() ?? ""),
            url.host?.isEmpty == false
        else { throw .keySetUnavailable("the discovery document of \(host) has no jwks_uri") }
        let location = KeySetLocation(issuer: issuer, keySetURL: url)
        discovered[discoveryURL] = (location, now)
        return location
    }

    private static func trimmed(_ text: String) -> String { text.hasSuffix("/") ? String(text.dropLast()) : text }

    private static func pick(_ keys: [Key], keyID: String?, keyType: String) -> Key? {
        if let keyID { return keys.first { $0.keyID == keyID && $0.keyType == keyType } }
        let candidates = keys.filter { $0.keyType == keyType }
        return candidates.count == 1 ? candidates[0] : nil
    }

    private func fetch(_ url: URL) async throws(IDTokenError) -> [Key] {
        let host = url.host ?? "the provider"
        guard let list = try await json(url)["keys"] as? [[String: Any]] else { throw .keySetUnavailable("\(host) did not answer with a key set") }
        return list.compactMap { item in
            guard let type = item["kty"] as? String, (item["use"] as? String).map({ $0 == "sig" }) ?? true,
                let data = try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys]),
                let json = String(data: data, encoding: .utf8)
            else { return nil }
            return Key(keyType: type, keyID: item["kid"] as? String, algorithm: item["alg"] as? String, json: json)
        }
    }

    private func json(_ url: URL) async throws(IDTokenError) -> [String: Any] {
        let host = url.host ?? "the provider"
        let response: OutboundResponse
        do {
            response = try await transport.send(OutboundRequest(method: "GET", url: url, headers: [(name: "Accept", value: "application/json")]))
        } catch let error as OutboundError {
            throw .keySetUnavailable(error.policyMessage ?? "\(host) did not answer")
        } catch {
            throw .keySetUnavailable("\(host) did not answer")
        }
        guard (200...299).contains(response.status) else { throw .keySetUnavailable("\(host) answered \(response.status)") }
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw .keySetUnavailable("\(host) did not answer with JSON")
        }
        return object
    }
}
