import Foundation
public import LatchkeyCore
import Logging

extension KeyManager {
    /// The master key from the provider: for a key service, its unwrapping of the stored wrapped key (nil when none
    /// is stored yet).
    func loadMaster() async throws -> MasterKey? {
        guard let service = provider as? any WrappedMasterKeyProvider else { return try await provider.loadMasterKey() }
        guard let stored = try await repository.setting(Self.wrappedMasterKeySetting) else { return nil }
        guard let wrapped = Data(base64Encoded: stored) else {
            throw KeyError(description: "The wrapped master key stored in the database is not valid base64; restore the database from a backup.")
        }
        return try await service.unwrapMasterKey(wrapped)
    }

    func missingMasterKey() -> KeyError {
        guard provider is any WrappedMasterKeyProvider else { return .masterKeyMissing(source: provider.sourceDescription) }
        return KeyError(
            description:
                "This database holds encrypted data under a master key that \(provider.sourceDescription) did not wrap (no wrapped master key is stored). "
                + "Start Latchkey with the master key source it was created with (its key file or LATCHKEY_MASTER_KEY)."
        )
    }

    /// Words for where the master key comes from ("AWS KMS key … at https://…").
    public var keySourceDescription: String { provider.sourceDescription }

    /// Whether the master key comes from a key service (rotate-master then asks the service for the new key).
    public var usesKeyService: Bool { provider is any WrappedMasterKeyProvider }

    /// Under a key service: asks it for a new master key, then re-wraps the keyring under it and stores the new
    /// wrapped key in one transaction. When the service cannot be reached nothing changes; run it again.
    public func rotateMasterWithKeyService(_ keyring: Keyring) async throws {
        guard let service = provider as? any WrappedMasterKeyProvider else {
            throw KeyError(description: "The master key comes from \(provider.sourceDescription), not a key service.")
        }
        let (newMaster, wrapped) = try await service.generateWrappedMasterKey()
        try await rotateMaster(keyring, to: newMaster, wrapped: wrapped)
        logger.info("master key rotated", metadata: ["key_service": "\(provider.sourceDescription)"])
    }
}
