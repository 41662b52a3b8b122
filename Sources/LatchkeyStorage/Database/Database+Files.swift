import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Database {
    /// Readable by the owner only: the directory that holds the SQLite file, and the file itself.
    static let privateDirectoryMode: mode_t = 0o700
    static let privateFileMode: mode_t = 0o600

    /// Makes the SQLite file's directory (0700 when created here) and the file (0600) before SQLite opens it.
    /// SQLite creates its `-wal` and `-shm` files with the database file's mode, so they are 0600 as well. Files left
    /// readable by others by an older version are tightened, with a log line saying so.
    static func prepareSQLiteFiles(path: String, logger: Logger) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: Int(privateDirectoryMode)]
            )
        }
        if !FileManager.default.fileExists(atPath: path) {
            let descriptor = createPrivateFile(path, mode: privateFileMode)
            if descriptor >= 0 {
                // The umask may have taken bits away, never added any; set the mode exactly.
                _ = fchmod(descriptor, privateFileMode)
                closeDescriptor(descriptor)
            } else if errno != EEXIST {
                throw DatabaseError.unavailable("SQLite at \(path) (cannot create the file: \(String(cString: strerror(errno))))")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & 0o077 != 0 else { continue }
            if chmod(file, privateFileMode) == 0 {
                logger.warning(
                    "a database file was readable by other users; it is now readable by its owner only",
                    metadata: ["file": "\(file)", "mode": "\(String(info.st_mode & 0o777, radix: 8))"]
                )
            }
        }
    }
}

/// `open(2)` with `O_CREAT | O_EXCL`, outside `Database` whose own `open` and `close` would shadow the system calls.
private func createPrivateFile(_ path: String, mode: mode_t) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
}

private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
