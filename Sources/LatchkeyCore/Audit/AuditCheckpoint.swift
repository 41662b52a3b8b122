public import Foundation

/// Where a tenant's audit chain starts after older events were pruned (audit retention): the last pruned event's
/// sequence number and hash, signed with an HMAC key derived from the keyring, so that verification can start from
/// it and a checkpoint that was edited or forged is caught.
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    public var tenantID: String
    /// The sequence number of the last pruned event: the chain goes on at `seq + 1`.
    public var seq: Int
    /// The hash of the last pruned event: the next event's `prevHash`.
    public var hash: String
    /// Events from before this time were pruned.
    public var prunedBefore: Date
    public var createdAt: Date
    /// How many events this pruning removed.
    public var pruned: Int
    /// HMAC-SHA-256 (hex) over the fields above, under the keyring's `audit-checkpoint` key.
    public var signature: String

    /// The HMAC key purpose the signature uses.
    public static let purpose = "audit-checkpoint"

    public init(tenantID: String, seq: Int, hash: String, prunedBefore: Date, createdAt: Date, pruned: Int, signature: String = "") {
        self.tenantID = tenantID
        self.seq = seq
        self.hash = hash
        self.prunedBefore = Date(unixMilliseconds: prunedBefore.unixMilliseconds)
        self.createdAt = Date(unixMilliseconds: createdAt.unixMilliseconds)
        self.pruned = pruned
        self.signature = signature
    }

    /// The canonical text the signature covers.
    var signedText: String {
        [
            "latchkey-audit-checkpoint-v1", tenantID, String(seq), hash, String(prunedBefore.unixMilliseconds), String(createdAt.unixMilliseconds),
            String(pruned),
        ]
        .map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
    }

    /// The checkpoint with its signature set.
    public func signed(with keyring: Keyring) -> AuditCheckpoint {
        var copy = self
        copy.signature = keyring.mac(signedText, purpose: Self.purpose)
        return copy
    }

    /// Whether the signature is this keyring's over these fields.
    public func isAuthentic(under keyring: Keyring) -> Bool {
        ConstantTime.equals(keyring.mac(signedText, purpose: Self.purpose), signature)
    }
}
