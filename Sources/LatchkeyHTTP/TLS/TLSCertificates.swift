public import Foundation
public import LatchkeyBootstrap
public import Logging
import NIOConcurrencyHelpers
import NIOCore
public import NIOSSL

/// The certificate and key HTTPS is served with, read from their files at start and again on ``reload(now:)``
/// (SIGHUP). The listener keeps running: each new connection's handshake takes the pair current at that moment, so
/// open connections finish on the old certificate and new ones get the new. A pair that cannot be used (a file
/// missing or unreadable, a key that is not the certificate's, a certificate already expired) is refused with the
/// reason, at start and on reload — where the pair in use stays.
public final class TLSCertificates: Sendable {
    /// A certificate chain with its key, checked to belong together.
    public struct Pair: Sendable {
        public let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        /// When the leaf certificate stops being valid.
        public let notValidAfter: Date
        /// The leaf certificate's serial number in hex, as `openssl x509 -serial` prints it.
        public var serial: String { chain[0].serialNumber.map { String(format: "%02X", $0) }.joined() }
    }

    public let files: TLSFiles
    private let current: NIOLockedValueBox<Pair>
    private let logger: Logger

    /// Reads and checks the pair; throws a ``ConfigurationError`` saying what is wrong with it.
    public init(files: TLSFiles, now: Date = Date(), logger: Logger) throws {
        self.files = files
        self.current = NIOLockedValueBox(try Self.load(files, now: now))
        self.logger = logger
    }

    /// The pair new connections are served with.
    public var pair: Pair { current.withLockedValue { $0 } }

    /// The server's TLS settings: the pair read at start, replaced per handshake by the current one.
    public var serverConfiguration: TLSConfiguration {
        let first = pair
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: first.chain.map { .certificate($0) },
            privateKey: .privateKey(first.key)
        )
        configuration.sslContextCallback = { [current] _, promise in
            let pair = current.withLockedValue { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
        return configuration
    }

    /// Reads the files again and serves the new pair from the next connection on; a pair that cannot be used is
    /// logged with the reason and the one in use stays. Returns whether the new pair was taken.
    @discardableResult
    public func reload(now: Date = Date()) -> Bool {
        do {
            let pair = try Self.load(files, now: now)
            current.withLockedValue { $0 = pair }
            logger.notice(
                "TLS certificate reloaded",
                metadata: ["serial": "\(pair.serial)", "not_valid_after": "\(pair.notValidAfter)", "file": "\(files.certificatePath)"]
            )
            return true
        } catch {
            logger.error(
                "TLS certificate not reloaded; the previous one is still served",
                metadata: ["reason": "\(error)", "serial": "\(pair.serial)"]
            )
            return false
        }
    }

    static func load(_ files: TLSFiles, now: Date) throws -> Pair {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(read(files.certificatePath, what: "certificate")))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("The TLS certificate \(files.certificatePath) is not a PEM certificate (\(error))")
        }
        guard let leaf = chain.first else {
            throw ConfigurationError("The TLS certificate file \(files.certificatePath) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(read(files.keyPath, what: "key")), format: .pem)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("The TLS key \(files.keyPath) is not an unencrypted PEM private key")
        }
        let notValidAfter = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        guard notValidAfter > now else {
            throw ConfigurationError(
                "The TLS certificate \(files.certificatePath) expired on \(notValidAfter); renew it (browsers refuse an expired certificate)"
            )
        }
        // BoringSSL refuses a key that is not the leaf certificate's when a context is made from the pair.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            )
        } catch {
            throw ConfigurationError("The TLS key \(files.keyPath) does not belong to the certificate \(files.certificatePath)")
        }
        return Pair(chain: chain, key: key, notValidAfter: notValidAfter)
    }

    private static func read(_ path: String, what: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError("The TLS \(what) file \(path) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("The TLS \(what) file \(path) cannot be read (check its permissions)")
        }
        return data
    }
}
