import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the master key comes from: a key file (the default), the `LATCHKEY_MASTER_KEY` environment variable, or an
/// external KMS that implements this protocol.
public protocol KeyProvider: Sendable {
    /// Words for messages: "the key file ./latchkey-data/master.key", "LATCHKEY_MASTER_KEY".
    var sourceDescription: String { get }
    /// The master key if this source has one, nil if it has none yet.
    func loadMasterKey() async throws -> MasterKey?
    /// Creates and stores a new master key; only called on a database that has no encrypted data yet.
    /// Sources that cannot create keys throw.
    func createMasterKey() async throws -> MasterKey
    /// Replaces the stored master key (after `keys rotate-master` re-wrapped the keyring under it).
    func replaceMasterKey(with key: MasterKey) async throws
}

/// The master key from a base64 string given in the environment (`LATCHKEY_MASTER_KEY`).
public struct EnvironmentKeyProvider: KeyProvider {
    let value: String
    public let sourceDescription: String

    public init(value: String, variable: String = "LATCHKEY_MASTER_KEY") {
        self.value = value
        self.sourceDescription = variable
    }

    public func loadMasterKey() async throws -> MasterKey? {
        try MasterKey(base64: value, source: sourceDescription)
    }

    public func createMasterKey() async throws -> MasterKey {
        try MasterKey(base64: value, source: sourceDescription)
    }

    public func replaceMasterKey(with key: MasterKey) async throws {
        throw KeyError(
            description:
                "The master key comes from \(sourceDescription); set it to the new key printed by `latchkey keys rotate-master` and restart every instance."
        )
    }
}

/// The master key in a file readable by its owner only (0600), created on first start. A key file that other users
/// can read or write is refused with a message that says how to fix it.
public struct KeyFileProvider: KeyProvider {
    public let path: String
    public var sourceDescription: String { "the key file \(path)" }

    public init(path: String) {
        self.path = path
    }

    public func loadMasterKey() async throws -> MasterKey? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        try checkPrivate()
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError.fileAccess(path, "cannot be read (check its owner and permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw KeyError.malformedMasterKey(source: sourceDescription) }
        return try MasterKey(base64: text, source: sourceDescription)
    }

    /// Refuses a key file that other users can read or change: whoever reads it can decrypt every stored credential.
    func checkPrivate() throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 != 0 else { return }
        throw KeyError.fileAccess(
            path,
            "can be read or changed by other users (mode \(String(mode, radix: 8))); make it readable by its owner only with "
                + "`chmod 600 \(path)` and start again"
        )
    }

    public func createMasterKey() async throws -> MasterKey {
        let key = MasterKey.generate()
        try write(key, replacing: false)
        return key
    }

    public func replaceMasterKey(with key: MasterKey) async throws {
        try write(key, replacing: true)
    }

    private func write(_ key: MasterKey, replacing: Bool) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let contents = Data((key.base64 + "\n").utf8)
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: contents, attributes: [.posixPermissions: 0o600]) else {
            throw KeyError.fileAccess(temporary, "cannot be written")
        }
        if !replacing, FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.removeItem(atPath: temporary)
            throw KeyError.fileAccess(path, "already exists; refusing to overwrite a master key")
        }
        if rename(temporary, path) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            throw KeyError.fileAccess(path, "cannot be written")
        }
    }
}
