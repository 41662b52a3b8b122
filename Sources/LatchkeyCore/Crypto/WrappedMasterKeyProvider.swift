import Crypto
public import Foundation

/// A master key that an external key service (AWS KMS) wraps: Latchkey stores only the wrapped form, in the database
/// next to the keyring, and asks the service to unwrap it at every start. The key manager writes the wrapped form in
/// the same transaction as the keyring it opens, so the two never disagree.
public protocol WrappedMasterKeyProvider: KeyProvider {
    /// Asks the service for a new master key: its plaintext, and the wrapped form to store.
    func generateWrappedMasterKey() async throws -> (key: MasterKey, wrapped: Data)
    /// Asks the service to unwrap a stored master key.
    func unwrapMasterKey(_ wrapped: Data) async throws -> MasterKey
}

extension WrappedMasterKeyProvider {
    public func loadMasterKey() async throws -> MasterKey? {
        throw KeyError(description: "The master key from \(sourceDescription) is kept wrapped in the database; the key manager opens it.")
    }

    public func createMasterKey() async throws -> MasterKey {
        try await generateWrappedMasterKey().key
    }

    public func replaceMasterKey(with key: MasterKey) async throws {
        throw KeyError(description: "The master key from \(sourceDescription) is kept wrapped in the database; the key manager replaces it.")
    }
}

extension MasterKey {
    /// A master key from raw bytes (a key service's plaintext data key), which must be exactly 32 bytes.
    public init(bytes: Data, source: String) throws {
        guard bytes.count == 32 else { throw KeyError.wrongMasterKeyLength(bytes: bytes.count, source: source) }
        try self.init(SymmetricKey(data: bytes))
    }
}
