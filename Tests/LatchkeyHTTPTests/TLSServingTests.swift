import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyTesting
import Logging
import NIOSSL
import SwiftASN1
import Testing
import X509

/// Self-signed certificates made for a test, written as PEM files in a directory of their own.
struct TestCertificate {
    let certificatePEM: String
    let keyPEM: String
    let serial: String

    init(serial: UInt32, notValidAfter: Date = Date().addingTimeInterval(3600), key: P256.Signing.PrivateKey = .init()) throws {
        let name = try DistinguishedName { CommonName("127.0.0.1") }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(serial),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: notValidAfter,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        certificatePEM = try certificate.serializeAsPEM().pemString
        keyPEM = key.pemRepresentation
        self.serial = String(format: "%04X", serial)
    }

    /// Writes the pair to `cert.pem` and `key.pem` in `directory` (replacing what is there).
    func write(to directory: URL) throws -> TLSFiles {
        let files = TLSFiles(
            certificatePath: directory.appendingPathComponent("cert.pem").path,
            keyPath: directory.appendingPathComponent("key.pem").path
        )
        try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: files.certificatePath))
        try Data(keyPEM.utf8).write(to: URL(fileURLWithPath: files.keyPath))
        return files
    }

    /// A client configuration that trusts this certificate only.
    var trustedBy: TLSConfiguration {
        get throws {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)))
            configuration.certificateVerification = .noHostnameVerification
            return configuration
        }
    }

    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// `serve --tls-cert/--tls-key`: HTTPS with the given pair, a new pair taken on reload (SIGHUP) without closing the
/// listener, a pair that cannot be served refused with the reason — at start, and on reload where the old one stays.
@Suite("TLS")
struct TLSServingTests {
    static func withServer(
        _ kind: TestDatabases.Kind,
        files: TLSFiles,
        logs: LogCapture,
        _ body: @Sendable (Int, TLSCertificates) async throws -> Void
    ) async throws {
        let configure: (inout ServerConfiguration) -> Void = {
            $0.tls = files
            $0.port = 0
        }
        try await TestDatabases.withRuntime(kind, logger: logs.logger(), configure: configure) { runtime in
            let certificates = try TLSCertificates(files: files, logger: logs.logger())
            var dependencies = ApplicationDependencies(runBackgroundServices: false, ownsDatabase: false, transport: FakeNetwork())
            dependencies.tls = certificates
            let app = buildApplication(runtime: runtime, dependencies: dependencies)
            try await app.test(.live) { client in try await body(try #require(client.port), certificates) }
        }
    }

    static func get(_ path: String, port: Int, trusting certificate: TestCertificate) async throws -> TestClient.Response {
        try await TestClient.withClient(
            host: "127.0.0.1",
            port: port,
            configuration: .init(tlsConfiguration: try certificate.trustedBy, serverName: "localhost")
        ) {
            try await $0.get(path)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func httpsAnswersWithTheCertificateGivenAndMarksItselfHTTPSOnly(kind: TestDatabases.Kind) async throws {
        let first = try TestCertificate(serial: 0x1001)
        let files = try first.write(to: try TestCertificate.directory())
        try await Self.withServer(kind, files: files, logs: LogCapture()) { port, certificates in
            #expect(certificates.pair.serial == first.serial)
            let health = try await Self.get("/healthz", port: port, trusting: first)
            #expect(health.status == .ok)
            #expect(health.headers[HTTPField.Name("Strict-Transport-Security")!] == "max-age=31536000")
            // The public URL is https by default with TLS: every cookie is Secure.
            let login = try await Self.get("/login", port: port, trusting: first)
            let cookies = login.headers[values: .setCookie]
            #expect(!cookies.isEmpty)
            for cookie in cookies { #expect(cookie.contains("Secure"), "\(cookie)") }
            // A client that trusts another certificate does not get through.
            await #expect(throws: (any Error).self) { _ = try await Self.get("/healthz", port: port, trusting: try TestCertificate(serial: 0x1002)) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aReloadServesTheNewCertificateToNewConnectionsAndABrokenOneKeepsTheOld(kind: TestDatabases.Kind) async throws {
        let directory = try TestCertificate.directory()
        let first = try TestCertificate(serial: 0x2001)
        let files = try first.write(to: directory)
        let logs = LogCapture()
        try await Self.withServer(kind, files: files, logs: logs) { port, certificates in
            #expect(try await Self.get("/healthz", port: port, trusting: first).status == .ok)
            let second = try TestCertificate(serial: 0x2002)
            _ = try second.write(to: directory)
            #expect(certificates.reload())
            #expect(certificates.pair.serial == second.serial)
            #expect(try await Self.get("/healthz", port: port, trusting: second).status == .ok)
            await #expect(throws: (any Error).self) { _ = try await Self.get("/healthz", port: port, trusting: first) }
            #expect(logs.text.contains("TLS certificate reloaded"))

            // A key that is not the certificate's: refused, logged, the second pair still served.
            let third = try TestCertificate(serial: 0x2003)
            try Data(third.certificatePEM.utf8).write(to: URL(fileURLWithPath: files.certificatePath))
            #expect(!certificates.reload())
            #expect(certificates.pair.serial == second.serial)
            #expect(logs.text.contains("does not belong to the certificate"))
            #expect(!logs.text.contains(second.keyPEM.split(separator: "\n")[1]))
            #expect(try await Self.get("/healthz", port: port, trusting: second).status == .ok)
        }
    }

    @Test func aPairThatCannotBeServedIsRefusedWithTheReason() throws {
        let logger = LogCapture().logger()
        let directory = try TestCertificate.directory()
        let good = try TestCertificate(serial: 0x3001)
        let files = try good.write(to: directory)
        #expect(try TLSCertificates(files: files, logger: logger).pair.serial == good.serial)

        func refusal(_ files: TLSFiles) -> String {
            do {
                _ = try TLSCertificates(files: files, logger: logger)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        // Another certificate's key.
        let other = try TestCertificate(serial: 0x3002)
        try Data(other.keyPEM.utf8).write(to: URL(fileURLWithPath: files.keyPath))
        #expect(refusal(files).contains("does not belong to the certificate"))
        // An expired certificate.
        let expired = try TestCertificate(serial: 0x3003, notValidAfter: Date().addingTimeInterval(-60))
        let expiredFiles = try expired.write(to: try TestCertificate.directory())
        #expect(refusal(expiredFiles).contains("expired on"))
        // Missing, and not PEM.
        #expect(
            refusal(TLSFiles(certificatePath: directory.appendingPathComponent("none.pem").path, keyPath: files.keyPath)).contains("does not exist")
        )
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: files.certificatePath))
        #expect(refusal(files).contains("PEM"))
        // One file without the other.
        #expect(throws: ConfigurationError.self) { try TLSFiles.from(certificate: "cert.pem", key: nil, names: ("--tls-cert", "--tls-key")) }
    }
}
