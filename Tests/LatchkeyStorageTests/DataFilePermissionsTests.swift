import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import Logging
import SQLKit
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Files in the data directory are the owner's only")
struct DataFilePermissionsTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "latchkey-files-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theDataDirectoryAndTheSQLiteFilesAreCreatedForTheOwnerOnly() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/data"
        let path = directory + "/latchkey.sqlite"
        let previous = umask(0o022)
        defer { umask(previous) }
        let database = try await Database.open(.sqlite(path: path), logger: Self.logger)
        try await database.write { db in
            try await db.raw("CREATE TABLE t (x INTEGER)").run()
            try await db.raw("INSERT INTO t VALUES (1)").run()
        }
        #expect(try Self.mode(directory) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file) missing")
            #expect(try Self.mode(file) == 0o600, "\(file)")
        }
        await database.close()
    }

    @Test func aDatabaseFileLeftReadableByOthersIsTightened() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/latchkey.sqlite"
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
        let database = try await Database.open(.sqlite(path: path), logger: Self.logger)
        #expect(try Self.mode(path) == 0o600)
        await database.close()
    }

    @Test func aKeyFileOthersCanReadIsRefusedWithTheFix() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/master.key"
        let provider = KeyFileProvider(path: path)
        let key = try await provider.createMasterKey()
        #expect(try Self.mode(path) == 0o600)
        #expect(try await provider.loadMasterKey()?.base64 == key.base64)

        for mode in [0o644, 0o640, 0o604, 0o660] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let error = await #expect(throws: KeyError.self) { try await provider.loadMasterKey() }
            let message = error?.description ?? ""
            #expect(message.contains(path) && message.contains(String(mode, radix: 8)), "\(message)")
            #expect(message.contains("chmod 600 \(path)"), "\(message)")
            #expect(!message.contains(key.base64))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(try await provider.loadMasterKey()?.base64 == key.base64)
    }
}
