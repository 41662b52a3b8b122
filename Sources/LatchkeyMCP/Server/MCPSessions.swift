public import Crypto
import Foundation
public import LatchkeyCore
import Synchronization

/// `Mcp-Session-Id` values for the revisions with an `initialize` handshake. A session id is signed (HMAC-SHA-256)
/// together with the tenant, user and client it was issued to, so it carries the negotiated version without a row,
/// works on every instance, and is refused (`unknown`) for anyone else. It is never authentication: the request's
/// token is checked first and the session must belong to its principal. An ended session (`DELETE /mcp`) is
/// remembered by this instance until the id would have expired anyway.
public final class MCPSessions: Sendable {
    private let key: SymmetricKey
    private let clock: any LatchkeyClock
    /// How long a session lives; the client opens a new one after that (it is told 404).
    public let lifetime: Duration
    private let ended = Mutex<[String: Date]>([:])

    public init(key: SymmetricKey, clock: any LatchkeyClock, lifetime: Duration = .seconds(24 * 3600)) {
        self.key = key
        self.clock = clock
        self.lifetime = lifetime
    }

    /// What a presented session id is.
    public enum Check: Sendable, Equatable {
        case active(MCPProtocolVersion)
        /// Not issued here, issued to someone else, ended or expired.
        case unknown
    }

    /// A new session id for `principal` speaking `version`.
    public func open(for principal: MCPPrincipal, version: MCPProtocolVersion) -> String {
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Hex.lowercase(Data($0)) }
        let issued = Int64(clock.now.timeIntervalSince1970)
        let payload = "\(nonce).\(version.rawValue).\(issued)"
        return "\(payload).\(signature(payload, principal))"
    }

    /// Whether `id` is a live session of `principal`.
    public func check(_ id: String, for principal: MCPPrincipal) -> Check {
        guard let (nonce, version) = verified(id, principal) else { return .unknown }
        return ended.withLock { $0[nonce] } == nil ? .active(version) : .unknown
    }

    /// Ends the session `id` of `principal`; false when it is not a live session of theirs.
    public func end(_ id: String, for principal: MCPPrincipal) -> Bool {
        guard let (nonce, _) = verified(id, principal) else { return false }
        let now = clock.now
        let until = now.addingTimeInterval(TimeInterval(lifetime.components.seconds))
        return ended.withLock { ended in
            guard ended[nonce] == nil else { return false }
            ended = ended.filter { $0.value > now }
            ended[nonce] = until
            return true
        }
    }

    /// The nonce and version of a well-formed, correctly signed, unexpired id of `principal`.
    private func verified(_ id: String, _ principal: MCPPrincipal) -> (String, MCPProtocolVersion)? {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard id.utf8.count <= 200, parts.count == 4, let issued = Int64(parts[2]),
            let version = MCPProtocolVersion(rawValue: String(parts[1]))
        else { return nil }
        let payload = parts[0..<3].joined(separator: ".")
        let expected = Data(signature(payload, principal).utf8)
        let given = Data(parts[3].utf8)
        // Compared in constant time: the signature is what makes the id unforgeable.
        guard expected.count == given.count, zip(expected, given).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        let age = clock.now.timeIntervalSince1970 - TimeInterval(issued)
        guard age >= -60, age < TimeInterval(lifetime.components.seconds) else { return nil }
        return (String(parts[0]), version)
    }

    private func signature(_ payload: String, _ principal: MCPPrincipal) -> String {
        let bound = [principal.tenantID, principal.userID, principal.clientID, payload].joined(separator: "\n")
        return Hex.lowercase(Data(HMAC<SHA256>.authenticationCode(for: Data(bound.utf8), using: key)))
    }
}
